import pytest

from tests import factories


@pytest.fixture
def articles(db):
    home = factories.help_center("en")
    account = factories.category(home, title="Account", slug="account")
    return [
        factories.article(
            account,
            title="Reset your password",
            slug="reset-your-password",
            summary="Choose a new password.",
            body="Open the sign-in page and select Forgot password.",
        ),
        factories.article(
            account,
            title="Two-factor authentication",
            slug="two-factor",
            kind="faq",
            summary="Protect your account.",
            body="Use an authenticator app.",
        ),
    ]


def test_search_returns_results_with_snippets_and_a_search_id(client, articles):
    response = client.get("/api/v1/search", {"q": "password", "locale": "en"})
    assert response.status_code == 200
    data = response.json()
    assert data["query"] == "password" and data["locale"] == "en" and data["count"] == 1
    hit = data["results"][0]
    assert hit["id"] == articles[0].pk
    assert hit["url"] == "/en/account/reset-your-password/"
    assert hit["kind"] == "guide" and hit["category"] == "Account"
    assert "<mark>password</mark>" in hit["snippet"]
    assert hit["score"] > 0
    assert set(hit) >= {
        "id",
        "title",
        "url",
        "summary",
        "snippet",
        "kind",
        "category",
        "score",
    }
    assert "body" not in hit
    assert data["search_id"]
    assert data["suggestion"] is None


def test_search_filters_and_paginates(client, articles):
    assert (
        client.get("/api/v1/search", {"q": "account password", "kind": "faq"}).json()[
            "results"
        ][0]["title"]
        == "Two-factor authentication"
    )
    page = client.get(
        "/api/v1/search", {"q": "account password", "limit": 1, "offset": 1}
    ).json()
    assert page["count"] == 2 and len(page["results"]) == 1


def test_misspelling_gets_results_and_a_suggestion(client, articles):
    data = client.get("/api/v1/search", {"q": "pasword"}).json()
    assert data["results"][0]["title"] == "Reset your password"
    assert data["suggestion"] == "password"


def test_suggest_returns_titles_and_urls(client, articles):
    data = client.get("/api/v1/suggest", {"q": "reset", "locale": "en"}).json()
    assert data["results"] == [
        {
            "id": articles[0].pk,
            "title": "Reset your password",
            "url": "/en/account/reset-your-password/",
        }
    ]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"q": '"unbalanced'}, "q"),
        ({"q": "-"}, "q"),
        ({"q": "*"}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "ok", "locale": "xx"}, "locale"),
        ({"q": "ok", "limit": "0"}, "limit"),
        ({"q": "ok", "limit": "abc"}, "limit"),
        ({"q": "ok", "offset": "-1"}, "offset"),
        ({"q": "ok", "kind": "tutorial"}, "kind"),
        ({}, "q"),
    ],
)
def test_bad_search_parameters_get_a_400_json_error(client, articles, params, field):
    response = client.get("/api/v1/search", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field
    assert error["code"] and error["message"]


def test_configured_locale_without_a_match_is_an_honest_empty_result(client, articles):
    response = client.get("/api/v1/search", {"q": "zzzz", "locale": "ru"})
    assert response.status_code == 200
    assert response.json()["count"] == 0 and response.json()["results"] == []


def test_search_page_shows_highlighted_escaped_results_and_did_you_mean(
    client, articles
):
    html = client.get("/en/search/", {"q": "pasword"}).content.decode()
    assert "Did you mean" in html and "?q=password" in html
    assert "<mark>password</mark>" in html
    html = client.get(
        "/en/search/", {"q": "<script>alert(1)</script> zzzz"}
    ).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "Articles customers find most useful" in html


def test_search_page_bad_query_is_a_400_with_a_message(client, articles):
    response = client.get("/en/search/", {"q": '"open'})
    assert response.status_code == 400
    assert "unbalanced quote" in response.content.decode()


def test_each_search_is_recorded_with_its_id_count_and_results(client, articles):
    from feedback.models import Event

    data = client.get(
        "/api/v1/search", {"q": "password", "channel": "widget", "journey_id": "j-1"}
    ).json()
    event = Event.objects.get(search_id=data["search_id"])
    assert (event.type, event.channel, event.journey_id, event.locale) == (
        "search",
        "widget",
        "j-1",
        "en",
    )
    assert event.result_count == 1 and event.result_ids == [articles[0].pk]
    client.get("/en/search/", {"q": "zzzz nothing"})
    web = Event.objects.filter(channel="web", type="search").get()
    assert web.result_count == 0 and web.query == "zzzz nothing"
