"""POST /api/v1/events, called through its view, however the URL is wired."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from feedback.models import ApiKey, Event
from feedback.services import api_key_create
from kb_site.api.events import EventBatchCreateApi
from tests import factories

view = EventBatchCreateApi.as_view()


@pytest.fixture
def article(category):
    return factories.article(
        category, title="Reset your password", slug="reset-your-password"
    )


@pytest.fixture
def widget_key(db):
    return api_key_create(name="Widget", scope="widget")[1]


def post(body, key=None, auth=None):
    headers = {}
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = auth
    elif key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    request = APIRequestFactory().post("/api/v1/events", body, format="json", **headers)
    return view(request)


def click(article, **kwargs):
    return {
        "id": str(uuid.uuid4()),
        "type": "click",
        "journey_id": "j-1",
        "search_id": "s1",
        "article_id": article.pk,
        "rank": 1,
        "reason": None,
        **kwargs,
    }


@pytest.mark.django_db
def test_events_are_accepted_then_counted_as_duplicates(article, widget_key):
    events = [
        click(article),
        {
            "id": str(uuid.uuid4()),
            "type": "resolved",
            "journey_id": "j-1",
            "at": (timezone.now() - timedelta(hours=1)).isoformat(),
        },
    ]
    response = post({"events": events}, widget_key)
    assert response.status_code == 200 and response.data == {
        "accepted": 2,
        "duplicates": 0,
    }
    response = post({"events": events}, widget_key)
    assert response.data == {"accepted": 0, "duplicates": 2}
    assert Event.objects.count() == 2
    assert set(Event.objects.values_list("channel", flat=True)) == {"widget"}


@pytest.mark.django_db
def test_one_bad_event_gets_a_400_naming_it_and_nothing_is_stored(article, widget_key):
    response = post(
        {"events": [click(article), click(article, type="teleport")]}, widget_key
    )
    assert response.status_code == 400
    error = response.data["error"]
    assert error["code"] == "invalid_events" and error["field"] == "events[1].type"
    assert [(d["index"], d["field"]) for d in error["details"]] == [(1, "type")]
    assert Event.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [1000, 2**63, 2**70])
def test_unknown_article_gets_a_400(article, widget_key, offset):
    """An id no article has, even one beyond a database integer, is a 400, not a 500."""
    response = post(
        {"events": [click(article, article_id=article.pk + offset)]}, widget_key
    )
    assert response.status_code == 400
    assert response.data["error"]["details"][0]["field"] == "article_id"


@pytest.mark.django_db
def test_more_than_100_events_get_a_400(article, widget_key):
    response = post({"events": [click(article) for _ in range(101)]}, widget_key)
    assert response.status_code == 400
    assert response.data["error"]["field"] == "events"
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_missing_body_gets_a_400(widget_key):
    assert post({}, widget_key).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("auth", [None, "Bearer kb_nope_nope", "Token abc", "Bearer "])
def test_missing_or_wrong_key_gets_a_401(article, auth):
    api_key_create(name="Widget", scope="widget")
    response = (
        post({"events": [click(article)]}, auth=auth)
        if auth
        else post({"events": [click(article)]})
    )
    assert response.status_code == 401
    assert response.data["error"]["message"]
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_revoked_key_gets_a_401(article, widget_key):
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert post({"events": [click(article)]}, widget_key).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["reports", "helpdesk"])
def test_key_of_another_scope_gets_a_403(article, scope):
    raw_key = api_key_create(name="Other", scope=scope)[1]
    response = post({"events": [click(article)]}, raw_key)
    assert response.status_code == 403
    assert Event.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["widget", "bot", "agent"])
def test_widget_bot_and_agent_keys_may_post_events(article, scope):
    raw_key = api_key_create(name=scope, scope=scope)[1]
    assert post({"events": [click(article)]}, raw_key).status_code == 200
    assert Event.objects.get().channel == scope


@pytest.mark.django_db
def test_key_printed_by_create_api_key_authenticates(article):
    out = io.StringIO()
    call_command(
        "create_api_key", "Bot", "--scope", "bot", stdout=out, stderr=io.StringIO()
    )
    response = post({"events": [click(article)]}, out.getvalue().strip())
    assert response.status_code == 200 and response.data == {
        "accepted": 1,
        "duplicates": 0,
    }
