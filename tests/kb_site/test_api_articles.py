"""GET /api/v1/articles…: customer-visible articles for the widget, bots and sync."""

from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import ArticlePage
from feedback.services import vote_record
from tests import factories


@pytest.fixture
def article(category):
    return factories.article(
        category,
        title="Reset your password",
        slug="reset-your-password",
        summary="Choose a new password.",
        body="## Steps\n\nOpen **Sign in** and select *Forgot password*.\n\n"
        '<script>alert("x")</script>\n\n[Danger](javascript:alert(1))\n',
    )


@pytest.fixture
def swedish(article):
    home = factories.help_center("sv")
    konto = factories.category(home, title="Konto", slug="konto")
    page = factories.article(
        konto, title="Återställ ditt lösenord", slug="aterstall-losenord"
    )
    ArticlePage.objects.filter(pk=page.pk).update(
        translation_key=article.translation_key
    )
    return page


def test_article_by_id_has_sanitised_html_text_markdown_and_metadata(client, article):
    response = client.get(f"/api/v1/articles/{article.pk}")
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == article.pk
    assert (data["locale"], data["slug"]) == ("en", "reset-your-password")
    assert data["title"] == "Reset your password"
    assert data["summary"] == "Choose a new password."
    assert data["kind"] == "guide"
    assert (
        data["url"] == "http://testserver/en/account-and-sign-in/reset-your-password/"
    )
    assert data["category"] == {
        "slug": "account-and-sign-in",
        "title": "Account and sign-in",
    }
    assert "<strong>Sign in</strong>" in data["html"]
    assert "<script" not in data["html"] and "javascript:" not in data["html"]
    assert "Open Sign in and select Forgot password." in data["text"]
    assert "<" not in data["text"].replace('alert("x")', "")
    assert data["markdown"] == article.body
    article.refresh_from_db()
    assert data["revision_id"] == article.live_revision_id
    assert data["updated_at"]
    assert data["helpfulness"] == {"up": 0, "down": 0, "score": None}
    assert data["translations"] == [
        {"locale": "en", "id": article.pk, "url": data["url"], "title": article.title}
    ]


def test_article_by_locale_and_slug_lists_its_translations(client, article, swedish):
    response = client.get("/api/v1/articles/sv/aterstall-losenord")
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == swedish.pk and data["locale"] == "sv"
    assert [(t["locale"], t["id"]) for t in data["translations"]] == [
        ("en", article.pk),
        ("sv", swedish.pk),
    ]


def test_helpfulness_counts_votes_with_a_wilson_score(client, article):
    for n in range(3):
        vote_record(article=article, helpful=True, visitor_id=f"visitor-{n}")
    vote_record(article=article, helpful=False, visitor_id="visitor-x")
    helpfulness = client.get(f"/api/v1/articles/{article.pk}").json()["helpfulness"]
    assert helpfulness["up"] == 3 and helpfulness["down"] == 1
    assert 0 < helpfulness["score"] < 0.75


def test_etag_answers_304_until_the_article_changes(client, article):
    first = client.get(f"/api/v1/articles/{article.pk}")
    etag = first["ETag"]
    assert etag and first["Cache-Control"] == "public, max-age=60"
    again = client.get(f"/api/v1/articles/{article.pk}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag

    article.body = "New text."
    article.save_revision().publish()
    changed = client.get(f"/api/v1/articles/{article.pk}", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["markdown"] == "New text."


def test_a_new_vote_changes_the_etag(client, article):
    etag = client.get(f"/api/v1/articles/{article.pk}")["ETag"]
    vote_record(article=article, helpful=True, visitor_id="visitor-1")
    response = client.get(f"/api/v1/articles/{article.pk}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["helpfulness"]["up"] == 1


def test_internal_draft_and_unknown_articles_are_404_json(client, category, article):
    internal = factories.article(category, slug="refund-override", audience="internal")
    draft = factories.article(category, slug="draft")
    draft.unpublish()
    for url in (
        f"/api/v1/articles/{internal.pk}",
        "/api/v1/articles/en/refund-override",
        f"/api/v1/articles/{draft.pk}",
        "/api/v1/articles/en/draft",
        "/api/v1/articles/999999",
        "/api/v1/articles/xx/reset-your-password",
        "/api/v1/articles/sv/reset-your-password",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"


def test_list_filters_by_locale_category_kind_and_update_time(
    client, home, category, article, swedish
):
    billing = factories.category(home, title="Billing", slug="billing")
    faq = factories.article(billing, slug="refunds", kind="faq")
    factories.article(billing, slug="agents-only", audience="internal")

    def ids(**params):
        response = client.get("/api/v1/articles", params)
        assert response.status_code == 200
        return [a["id"] for a in response.json()["results"]]

    assert set(ids()) == {article.pk, swedish.pk, faq.pk}
    assert set(ids(locale="en")) == {article.pk, faq.pk}
    assert ids(locale="en", category="billing") == [faq.pk]
    assert ids(category="konto") == [swedish.pk]
    assert ids(category="no-such-category") == []
    assert ids(kind="faq") == [faq.pk]
    later = timezone.now() + timedelta(seconds=1)
    ArticlePage.objects.filter(pk=faq.pk).update(
        last_published_at=later + timedelta(minutes=1)
    )
    assert ids(updated_since=later.isoformat()) == [faq.pk]
    item = client.get("/api/v1/articles", {"kind": "faq"}).json()["results"][0]
    assert item["category"] == {"slug": "billing", "title": "Billing"}
    assert "html" not in item and "markdown" not in item


def test_list_pages_with_next_and_previous_links(client, category):
    for n in range(5):
        factories.article(category, slug=f"page-{n}")
    first = client.get("/api/v1/articles", {"limit": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["previous"] is None
    assert first["next"].startswith("http://testserver/api/v1/articles?")
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert third["next"] is None and len(third["results"]) == 1
    seen = [a["slug"] for page in (first, second, third) for a in page["results"]]
    assert sorted(seen) == [f"page-{n}" for n in range(5)]
    back = client.get(third["previous"]).json()
    assert back["results"] == second["results"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"kind": "essay"}, "kind"),
        ({"locale": "xx"}, "locale"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"category": "<b>"}, "category"),
    ],
)
def test_bad_list_parameters_get_a_400_naming_the_field(client, db, params, field):
    response = client.get("/api/v1/articles", params)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/articles/-5",
        "/api/v1/articles/99999999999999999999999",
        "/api/v1/articles/en/a/b",
        "/api/v1/no-such-endpoint",
        "/api/v2/articles",
    ],
)
def test_unknown_api_paths_are_a_json_404(client, db, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
