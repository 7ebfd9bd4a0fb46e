"""The site's own pages: events with the journey cookie and CSRF token, and the
server-side click tracking of the no-JavaScript search page."""

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from feedback.models import Event
from feedback.services import journey_outcome
from tests import factories

UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
JOURNEY = "journey-site-aaaaaaaaaaaa"


@pytest.fixture
def article(category):
    return factories.article(
        category,
        title="Reset your password",
        slug="reset-your-password",
        body="Open the sign-in page and select Forgot password.",
    )


@pytest.fixture
def site_client(db):
    """A browser that has loaded a page: journey cookie and CSRF cookie."""
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=UA)
    client.cookies["kb_journey"] = JOURNEY
    client.cookies["csrftoken"] = "a" * 32
    return client


def view_event(article, **extra):
    return {"id": str(uuid.uuid4()), "type": "view", "article_id": article.pk, **extra}


def post_events(client, events, **headers):
    return client.post(
        "/api/v1/events",
        {"events": events},
        content_type="application/json",
        **headers,
    )


def test_a_same_site_post_with_csrf_token_uses_the_cookie_journey(site_client, article):
    response = post_events(
        site_client,
        [view_event(article, journey_id="someone-else", channel="bot")],
        HTTP_X_CSRFTOKEN="a" * 32,
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 1, "duplicates": 0}
    event = Event.objects.get()
    assert (event.journey_id, event.channel) == (JOURNEY, "web")


def test_a_same_site_post_without_csrf_token_is_403_json(site_client, article):
    response = post_events(site_client, [view_event(article)])
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    assert not Event.objects.exists()


def test_a_same_site_post_with_a_wrong_csrf_token_is_403(site_client, article):
    response = post_events(
        site_client, [view_event(article)], HTTP_X_CSRFTOKEN="b" * 32
    )
    assert response.status_code == 403
    assert not Event.objects.exists()


def test_a_caller_without_cookies_or_key_still_gets_401(client, article):
    response = post_events(client, [view_event(article)])
    assert response.status_code == 401


def test_the_site_page_gives_a_working_csrf_token(article):
    """End to end: the CSRF cookie a page sets is what the events post needs."""
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=UA)
    page = client.get(article.url)
    assert page.status_code == 200
    token = client.cookies["csrftoken"].value
    response = post_events(client, [view_event(article)], HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    event = Event.objects.get()
    assert event.journey_id and event.journey_id == client.cookies["kb_journey"].value


def test_web_search_click_and_helpful_vote_is_a_deflected_journey(article):
    browser = Client(HTTP_USER_AGENT=UA)
    html = browser.get("/en/search/", {"q": "password"}).content.decode()
    journey = browser.cookies["kb_journey"].value
    search = Event.objects.get(type="search")
    assert search.journey_id == journey
    link = f"{article.url}?sid={search.search_id}&amp;rank=1"
    assert f'href="{link}"' in html
    page = browser.get(link.replace("&amp;", "&"))
    assert page.status_code == 200 and "Reset your password" in page.content.decode()
    browser.get(link.replace("&amp;", "&"))  # a reload records nothing new
    click = Event.objects.get(type="click")
    assert (click.journey_id, click.search_id, click.rank, click.article_id) == (
        journey,
        search.search_id,
        1,
        article.pk,
    )
    assert Event.objects.filter(type="view", journey_id=journey).count() == 1
    vote = browser.post("/feedback/vote/", {"article": article.pk, "helpful": "yes"})
    assert vote.status_code in (302, 200)
    events = list(Event.objects.filter(journey_id=journey))
    assert {e.type for e in events} == {"search", "click", "view", "vote"}
    outcome = journey_outcome(events=events, now=timezone.now())
    assert outcome.outcome == "deflected" and not outcome.explicit


def test_result_ranks_continue_on_later_pages(category):
    for n in range(12):
        factories.article(category, title=f"Password tip {n}", slug=f"tip-{n}")
    browser = Client(HTTP_USER_AGENT=UA)
    html = browser.get("/en/search/", {"q": "password", "page": 2}).content.decode()
    assert '&amp;rank=11"' in html and '&amp;rank=1"' not in html


def test_crawlers_and_bad_parameters_record_nothing(article):
    search_id = "abc123"
    crawler = Client(HTTP_USER_AGENT="Googlebot/2.1")
    assert crawler.get(article.url, {"sid": search_id, "rank": 1}).status_code == 200
    browser = Client(HTTP_USER_AGENT=UA)
    for params in (
        {"sid": search_id, "rank": "0"},
        {"sid": search_id, "rank": "x"},
        {"sid": "<script>", "rank": "1"},
        {"rank": "1"},
    ):
        assert browser.get(article.url, params).status_code == 200
    assert not Event.objects.exists()
