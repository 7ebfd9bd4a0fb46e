"""GET /api/v1/stats/deflection: figures for other dashboards, behind a reports key."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import Event
from feedback.rollups import rollups_rebuild
from feedback.services import api_key_create
from tests import factories

URL = "/api/v1/stats/deflection"


@pytest.fixture
def reports_key(db):
    return api_key_create(name="Dashboard", scope="reports")[1]


def get(client, key=None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.get(URL, params, **headers)


def journey(name, at, article, ending, channel="web", locale="en"):
    search_id = uuid.uuid4().hex

    def add(type_, minutes, **kwargs):
        Event.objects.create(
            type=type_,
            journey_id=name,
            at=at + timedelta(minutes=minutes),
            channel=channel,
            locale=locale,
            **kwargs,
        )

    add("search", 0, search_id=search_id, query="refund", result_count=2)
    if ending == "abandoned":
        return
    add("click", 1, search_id=search_id, article=article, rank=1)
    if ending == "resolved":
        add("resolved", 2, article=article)
    elif ending == "ticket":
        add("ticket", 30)


@pytest.fixture
def history(category, site_afternoon):
    article = factories.article(category, title="Refunds", slug="refunds")
    now = timezone.now()
    old = now - timedelta(days=10)
    journey("old-1", old, article, "resolved")
    journey("old-2", old, article, "ticket")
    rollups_rebuild(day_from=timezone.localdate(old), day_to=timezone.localdate(old))
    recent = now - timedelta(minutes=40)
    journey("new-1", recent, article, "resolved", channel="widget")
    journey("new-2", recent, article, "inferred", channel="widget")
    journey("new-3", recent, article, "ticket", channel="bot", locale="sv")
    journey("new-4", recent, article, "abandoned")
    return {"old": timezone.localdate(old), "today": timezone.localdate()}


@pytest.mark.django_db
def test_stats_answer_the_documented_shape(client, reports_key, history):
    day = history["today"].isoformat()
    response = get(client, reports_key, **{"from": day, "to": day})
    assert response.status_code == 200
    assert response.json() == {
        "from": day,
        "to": day,
        "searches": 4,
        "journeys": 4,
        "deflected": 2,
        "deflected_explicit": 1,
        "deflected_inferred": 1,
        "ticketed": 1,
        "abandoned": 1,
        "deflection_rate": round(2 / 3, 4),
    }


@pytest.mark.django_db
def test_stats_combine_rolled_up_days_and_today(client, reports_key, history):
    body = get(
        client,
        reports_key,
        **{"from": history["old"].isoformat(), "to": history["today"].isoformat()},
    ).json()
    assert (body["journeys"], body["deflected"], body["ticketed"]) == (6, 3, 2)
    assert body["deflection_rate"] == 0.6


@pytest.mark.django_db
def test_stats_filter_by_locale_and_channel(client, reports_key, history):
    day = history["today"].isoformat()
    widget = get(client, reports_key, **{"from": day, "to": day, "channel": "widget"})
    assert widget.json()["deflected"] == 2 and widget.json()["ticketed"] == 0
    swedish = get(client, reports_key, **{"from": day, "to": day, "locale": "sv"})
    assert swedish.json()["ticketed"] == 1 and swedish.json()["searches"] == 1
    assert swedish.json()["deflection_rate"] == 0.0


@pytest.mark.django_db
def test_stats_without_outcomes_have_a_null_rate(client, reports_key):
    body = get(client, reports_key, **{"from": "2020-01-01", "to": "2020-01-31"}).json()
    assert body["journeys"] == 0 and body["deflection_rate"] is None


@pytest.mark.django_db
def test_stats_default_to_the_last_seven_days(client, reports_key):
    body = get(client, reports_key).json()
    today = timezone.localdate()
    assert body["to"] == today.isoformat()
    assert body["from"] == (today - timedelta(days=6)).isoformat()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"from": "2026-02-30"}, "from", "invalid_date"),
        ({"to": "yesterday"}, "to", "invalid_date"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "from", "invalid_range"),
        ({"from": "1990-01-01", "to": "2026-01-01"}, "from", "invalid_range"),
        ({"locale": "xx"}, "locale", "unknown_locale"),
        ({"channel": "fax"}, "channel", "unknown_channel"),
    ],
)
def test_bad_parameters_get_a_400_naming_the_field(
    client, reports_key, params, field, code
):
    response = get(client, reports_key, **params)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert response.json()["error"]["code"] == code


@pytest.mark.django_db
def test_stats_need_a_key(client):
    response = get(client)
    assert response.status_code == 401 and "error" in response.json()
    assert get(client, "kb_nope_nope").status_code == 401


@pytest.mark.django_db
def test_stats_need_the_reports_scope(client):
    bot_key = api_key_create(name="Bot", scope="bot")[1]
    response = get(client, bot_key)
    assert response.status_code == 403 and "error" in response.json()
