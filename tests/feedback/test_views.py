"""The no-JavaScript vote form, through the article page."""

import re

import pytest
from django.test import Client

from feedback.models import Event, Vote
from feedback.services import vote_record
from tests import factories

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def article(category):
    return factories.article(
        category, title="Reset your password", slug="reset-your-password"
    )


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def browser() -> Client:
    return Client(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER)


@pytest.mark.django_db
def test_article_page_asks_and_sets_an_anonymous_visitor_cookie(article):
    client = browser()
    response = client.get(article.url)
    html = response.content.decode()
    assert "Was this article helpful?" in html
    assert 'action="/feedback/vote/"' in html and 'name="helpful" value="yes"' in html
    cookie = response.cookies["kb_visitor"]
    assert cookie.value and cookie["httponly"] and cookie["samesite"] == "Lax"
    # Once set, the cookie is not reissued.
    assert "kb_visitor" not in client.get(article.url).cookies


@pytest.mark.django_db
def test_no_js_vote_round_trip_with_follow_up(article):
    client = browser()
    html = client.get(article.url).content.decode()
    response = client.post(
        "/feedback/vote/",
        {
            "article": article.pk,
            "helpful": "no",
            "csrfmiddlewaretoken": csrf_token(html),
        },
    )
    assert (
        response.status_code == 302
        and response["Location"] == f"{article.url}#helpfulness"
    )
    vote = Vote.objects.get()
    assert (
        vote.helpful is False and vote.visitor_id == client.cookies["kb_visitor"].value
    )
    event = Event.objects.get(type="vote")
    assert event.journey_id == client.cookies["kb_journey"].value
    assert (event.channel, event.extra) == ("web", {"helpful": False})

    html = client.get(article.url).content.decode()
    assert (
        "Thank you for your feedback." in html
        and 'name="reason" value="outdated"' in html
    )
    client.post(
        "/feedback/vote/",
        {
            "article": article.pk,
            "helpful": "no",
            "reason": "outdated",
            "comment": "Step 2 changed.",
            "csrfmiddlewaretoken": csrf_token(html),
        },
    )
    vote.refresh_from_db()
    assert (vote.reason, vote.comment) == ("outdated", "Step 2 changed.")

    # Changing the answer to Yes keeps one vote.
    client.post(
        "/feedback/vote/",
        {
            "article": article.pk,
            "helpful": "yes",
            "csrfmiddlewaretoken": csrf_token(html),
        },
    )
    assert Vote.objects.count() == 1 and Vote.objects.get().helpful is True
    assert 'name="reason"' not in client.get(article.url).content.decode()


@pytest.mark.django_db
def test_vote_post_without_csrf_token_is_refused(article):
    client = browser()
    client.get(article.url)
    response = client.post("/feedback/vote/", {"article": article.pk, "helpful": "yes"})
    assert response.status_code == 403
    assert Vote.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "user_agent",
    [
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
        "curl/8.5.0",
        "",
    ],
)
def test_bot_user_agents_do_not_count(article, user_agent):
    client = browser()
    html = client.get(article.url).content.decode()
    response = client.post(
        "/feedback/vote/",
        {
            "article": article.pk,
            "helpful": "yes",
            "csrfmiddlewaretoken": csrf_token(html),
        },
        HTTP_USER_AGENT=user_agent,
    )
    assert response.status_code == 302
    assert Vote.objects.count() == 0 and Event.objects.count() == 0


@pytest.mark.django_db
def test_vote_without_visitor_cookie_does_not_count(article):
    client = browser()
    html = client.get(article.url).content.decode()
    del client.cookies["kb_visitor"]
    client.post(
        "/feedback/vote/",
        {
            "article": article.pk,
            "helpful": "yes",
            "csrfmiddlewaretoken": csrf_token(html),
        },
    )
    assert Vote.objects.count() == 0


@pytest.mark.django_db
def test_vote_on_a_draft_or_unknown_article_is_refused(article, category):
    draft = factories.article(category, slug="draft")
    draft.unpublish()
    client = browser()
    html = client.get(article.url).content.decode()
    for pk in (draft.pk, 999999):
        response = client.post(
            "/feedback/vote/",
            {"article": pk, "helpful": "yes", "csrfmiddlewaretoken": csrf_token(html)},
        )
        assert response.status_code == 400
    assert Vote.objects.count() == 0


@pytest.mark.django_db
def test_vote_comment_is_escaped_where_it_is_shown(article):
    client = browser()
    client.get(article.url)
    visitor_id = client.cookies["kb_visitor"].value
    vote_record(
        article=article,
        helpful=False,
        visitor_id=visitor_id,
        comment='<script>alert("x")</script>',
    )
    html = client.get(article.url).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_vote_get_is_not_allowed(article):
    assert Client().get("/feedback/vote/").status_code == 405


@pytest.mark.django_db
def test_votes_are_rate_limited_per_visitor(article, settings):
    settings.KB_VOTE_RATE_LIMIT_VISITOR = 2
    client = browser()
    token = csrf_token(client.get(article.url).content.decode())
    answers = [
        client.post(
            "/feedback/vote/",
            {"article": article.pk, "helpful": h, "csrfmiddlewaretoken": token},
        ).status_code
        for h in ("yes", "no", "yes")
    ]
    assert answers == [302, 302, 429]
    assert Vote.objects.get().helpful is False


@pytest.mark.django_db
def test_votes_are_rate_limited_per_ip_across_visitors(article, settings):
    settings.KB_VOTE_RATE_LIMIT_IP = 2
    answers = []
    for _ in range(3):
        client = browser()
        token = csrf_token(client.get(article.url).content.decode())
        answers.append(
            client.post(
                "/feedback/vote/",
                {"article": article.pk, "helpful": "yes", "csrfmiddlewaretoken": token},
            ).status_code
        )
    assert answers == [302, 302, 429]
    assert Vote.objects.count() == 2


@pytest.mark.django_db
def test_vote_posted_by_script_gets_the_vote_section_back(article):
    client = browser()
    html = client.get(article.url).content.decode()
    response = client.post(
        "/feedback/vote/",
        {
            "article": article.pk,
            "helpful": "no",
            "csrfmiddlewaretoken": csrf_token(html),
        },
        HTTP_X_KB_FRAGMENT="1",
    )
    fragment = response.content.decode()
    assert response.status_code == 200 and "Thank you for your feedback." in fragment
    assert 'name="reason" value="unclear"' in fragment and "<html" not in fragment
    assert Vote.objects.get().helpful is False
