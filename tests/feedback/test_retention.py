"""Retention: raw events are purged after their days are rolled up; figures remain."""

import io
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from feedback.models import DailyRollup, Event, RollupDay
from feedback.rollups import rollup_figures, rollups_rebuild
from tests import factories


def journey(name, at, article, ticket=False):
    search_id = uuid.uuid4().hex
    Event.objects.create(
        type="search",
        journey_id=name,
        at=at,
        locale="en",
        search_id=search_id,
        query="refund",
        result_count=1,
    )
    Event.objects.create(
        type="click",
        journey_id=name,
        at=at + timedelta(minutes=1),
        locale="en",
        search_id=search_id,
        article=article,
        rank=1,
    )
    if ticket:
        Event.objects.create(
            type="ticket", journey_id=name, at=at + timedelta(minutes=5), locale="en"
        )


@pytest.fixture
def history(category):
    article = factories.article(category, title="Refunds", slug="refunds")
    now = timezone.now()
    days = {"ancient": now - timedelta(days=200), "old": now - timedelta(days=40)}
    days["recent"] = now - timedelta(days=2)
    journey("a-1", days["ancient"], article)
    journey("a-2", days["ancient"], article, ticket=True)
    journey("o-1", days["old"], article)
    journey("r-1", days["recent"], article)
    return {name: at.date() for name, at in days.items()}


def totals(first, last):
    return rollup_figures(day_from=first, day_to=last)[()]


def run_purge(*args):
    out = io.StringIO()
    call_command("events_purge", *args, stdout=out)
    return out.getvalue()


def test_retention_defaults_to_180_days():
    assert settings.KB_EVENT_RETENTION_DAYS == 180


@pytest.mark.django_db
def test_purge_rolls_up_then_deletes_only_old_events(history):
    before = totals(history["ancient"], history["recent"])
    assert RollupDay.objects.count() == 0

    output = run_purge()

    assert "Deleted 5 events" in output
    assert not Event.objects.filter(journey_id__startswith="a-").exists()
    assert Event.objects.filter(journey_id__in=["o-1", "r-1"]).count() == 4
    # The purged day was rolled up first, and its figures survive the purge.
    ancient = RollupDay.objects.get(day=history["ancient"])
    assert ancient.settled and ancient.events_purged
    assert totals(history["ancient"], history["ancient"])["ticketed"] == 1
    assert totals(history["ancient"], history["recent"]) == before


@pytest.mark.django_db
def test_purge_keeps_rollups_that_already_existed(history):
    rollups_rebuild(day_from=history["ancient"], day_to=history["ancient"])
    rows = DailyRollup.objects.count()
    run_purge("--days", "100")
    assert DailyRollup.objects.count() == rows
    assert totals(history["ancient"], history["ancient"])["journeys"] == 2


@pytest.mark.django_db
def test_dry_run_deletes_and_writes_nothing(history):
    output = run_purge("--dry-run")
    assert "Would delete 5 events" in output
    assert Event.objects.count() == 9
    assert not RollupDay.objects.exists() and not DailyRollup.objects.exists()


@pytest.mark.django_db
def test_shorter_retention_from_the_command_line(history):
    run_purge("--days", "30")
    assert set(Event.objects.values_list("journey_id", flat=True)) == {"r-1"}
    assert totals(history["old"], history["old"])["deflected_inferred"] == 1


@pytest.mark.django_db
def test_a_rebuild_after_a_purge_does_not_erase_purged_days(history):
    run_purge()
    call_command("rollups_rebuild", "--all", stdout=io.StringIO())
    call_command(
        "rollups_rebuild",
        "--from",
        history["ancient"].isoformat(),
        stdout=io.StringIO(),
    )
    assert totals(history["ancient"], history["ancient"])["journeys"] == 2


@pytest.mark.django_db
def test_nothing_to_purge(db):
    assert "Deleted 0 events" in run_purge()
