"""POST /api/v1/articles/{id}/votes: votes from the widget, bots and agent tools."""

import pytest

from feedback.models import Event, Vote
from feedback.services import api_key_create
from tests import factories


@pytest.fixture
def article(category):
    return factories.article(category, title="Reset your password", slug="reset")


def key(scope):
    return api_key_create(name=f"{scope} key", scope=scope)[1]


@pytest.fixture
def bot_key(db):
    return key("bot")


def vote(client, article_id, body, raw_key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"} if raw_key else {}
    return client.post(
        f"/api/v1/articles/{article_id}/votes",
        body,
        content_type="application/json",
        **headers,
    )


def test_a_vote_is_stored_with_a_vote_event_on_the_key_channel(
    client, article, bot_key
):
    response = vote(
        client,
        article.pk,
        {
            "helpful": False,
            "reason": "outdated",
            "comment": "<b>Old</b> screenshots",
            "journey_id": "j-1",
            "search_id": "s-1",
        },
        bot_key,
    )
    assert response.status_code == 201
    data = response.json()
    assert data["article"] == article.pk and data["helpful"] is False
    assert data["reason"] == "outdated" and data["changed"] is False
    assert data["helpfulness"] == {"up": 0, "down": 1, "score": 0.0}
    stored = Vote.objects.get(article=article)
    assert stored.comment == "<b>Old</b> screenshots" and stored.reason == "outdated"
    event = Event.objects.get(type="vote")
    assert (event.channel, event.journey_id, event.search_id) == ("bot", "j-1", "s-1")
    assert event.article_id == article.pk and event.extra == {"helpful": False}


def test_the_same_journey_changes_its_vote_without_doubling(client, article, bot_key):
    vote(client, article.pk, {"helpful": False, "journey_id": "j-1"}, bot_key)
    response = vote(client, article.pk, {"helpful": True, "journey_id": "j-1"}, bot_key)
    assert response.status_code == 200 and response.json()["changed"] is True
    assert response.json()["helpfulness"]["up"] == 1
    assert Vote.objects.filter(article=article).count() == 1
    assert Vote.objects.get(article=article).helpful is True
    vote(client, article.pk, {"helpful": True, "journey_id": "j-2"}, bot_key)
    assert Vote.objects.filter(article=article).count() == 2


def test_the_same_journey_id_under_another_key_is_another_voter(client, article):
    for raw_key in (key("bot"), key("widget")):
        vote(client, article.pk, {"helpful": True, "journey_id": "j-1"}, raw_key)
    assert Vote.objects.filter(article=article).count() == 2


def test_without_a_journey_the_key_is_the_voter(client, article, bot_key):
    vote(client, article.pk, {"helpful": True}, bot_key)
    vote(client, article.pk, {"helpful": False}, bot_key)
    assert Vote.objects.get(article=article).helpful is False


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "helpful"),
        ({"helpful": "maybe"}, "helpful"),
        ({"helpful": False, "reason": "boring"}, "reason"),
        ({"helpful": False, "comment": "x" * 1001}, "comment"),
        ({"helpful": True, "journey_id": "<script>"}, "journey_id"),
        ({"helpful": True, "search_id": "s" * 65}, "search_id"),
    ],
)
def test_bad_fields_get_a_400_and_store_nothing(client, article, bot_key, body, field):
    response = vote(client, article.pk, body, bot_key)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not Vote.objects.exists() and not Event.objects.exists()


def test_unknown_and_internal_articles_are_404(client, category, bot_key):
    internal = factories.article(category, slug="internal", audience="internal")
    for article_id in (internal.pk, 999999):
        response = vote(client, article_id, {"helpful": True}, bot_key)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert not Vote.objects.exists()


def test_keys_need_the_widget_bot_or_agent_scope(client, article):
    assert vote(client, article.pk, {"helpful": True}).status_code == 401
    assert vote(client, article.pk, {"helpful": True}, "kb_bad_key").status_code == 401
    for scope in ("helpdesk", "reports"):
        response = vote(client, article.pk, {"helpful": True}, key(scope))
        assert response.status_code == 403
    for scope in ("widget", "agent"):
        response = vote(client, article.pk, {"helpful": True}, key(scope))
        assert response.status_code == 201
    assert {e.channel for e in Event.objects.all()} == {"widget", "agent"}


def test_widget_votes_are_rate_limited_with_retry_after(client, article, settings):
    settings.KB_VOTE_RATE_LIMIT_VISITOR = 2
    widget_key = key("widget")
    for _ in range(2):
        response = vote(client, article.pk, {"helpful": True}, widget_key)
        assert response.status_code in (200, 201)
    response = vote(client, article.pk, {"helpful": True}, widget_key)
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert response.json()["error"]["code"] == "throttled"
