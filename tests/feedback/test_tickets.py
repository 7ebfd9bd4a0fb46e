"""feedback.services.ticket_record: tickets, their journey events, idempotency."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from feedback.models import Event, Ticket
from feedback.services import email_hash_compute, journey_outcome, ticket_record
from tests import factories


@pytest.mark.django_db
def test_a_contact_form_ticket_stores_only_the_email_hash_and_logs_a_ticket_event():
    ticket, created = ticket_record(
        source="contact_form",
        channel="web",
        journey_id="journey-aaaaaaaaaaaaaaaa",
        locale="en",
        subject="  Can't   sign in  ",
        email="Ada@Example.com ",
    )
    assert created
    stored = Ticket.objects.get()
    assert stored.subject == "Can't sign in"
    assert stored.email_hash == email_hash_compute(email="ada@example.com")
    assert len(stored.email_hash) == 64
    assert "ada" not in str(Ticket.objects.values().get()).lower()
    event = Event.objects.get()
    assert (event.type, event.journey_id, event.channel, event.locale) == (
        "ticket",
        "journey-aaaaaaaaaaaaaaaa",
        "web",
        "en",
    )
    assert ticket.pk == stored.pk


@pytest.mark.django_db
def test_the_email_hash_is_salted_by_the_setting(settings):
    settings.KB_EMAIL_HASH_SALT = "one"
    first = email_hash_compute(email="ada@example.com")
    settings.KB_EMAIL_HASH_SALT = "two"
    assert email_hash_compute(email="ada@example.com") != first
    import hashlib

    assert first != hashlib.sha256(b"ada@example.com").hexdigest()


@pytest.mark.django_db
def test_a_repeated_helpdesk_ticket_is_not_created_twice():
    args = {
        "source": "helpdesk",
        "channel": "web",
        "external_ref": "ZD-1",
        "journey_id": "journey-bbbbbbbbbbbbbbbb",
    }
    first, created = ticket_record(**args)
    again, created_again = ticket_record(**args)
    assert created and not created_again
    assert first.pk == again.pk
    assert Ticket.objects.count() == 1
    assert Event.objects.filter(type="ticket").count() == 1


@pytest.mark.django_db
def test_the_same_external_ref_from_another_source_is_another_ticket():
    ticket_record(source="helpdesk", channel="web", external_ref="7")
    ticket_record(source="widget", channel="widget", external_ref="7")
    assert Ticket.objects.count() == 2


@pytest.mark.django_db
def test_reopening_counts_each_reopen_but_not_repeats():
    ticket_record(source="helpdesk", channel="web", external_ref="ZD-2")
    for status in ("solved", "reopened", "reopened", "solved", "reopened"):
        ticket, created = ticket_record(
            source="helpdesk", channel="web", external_ref="ZD-2", status=status
        )
        assert not created
    assert (ticket.status, ticket.reopened_count) == ("reopened", 2)
    stored = Ticket.objects.get()
    assert (stored.status, stored.reopened_count) == ("reopened", 2)


@pytest.mark.django_db
def test_a_ticket_without_journey_joins_the_contact_form_journey_by_email_hash():
    ticket_record(
        source="contact_form",
        channel="web",
        journey_id="journey-cccccccccccccccc",
        email="ada@example.com",
    )
    helpdesk, _ = ticket_record(
        source="helpdesk",
        channel="web",
        external_ref="ZD-3",
        email_hash=email_hash_compute(email="ADA@example.com"),
    )
    assert helpdesk.journey_id == "journey-cccccccccccccccc"
    assert (
        Event.objects.filter(
            type="ticket", journey_id="journey-cccccccccccccccc"
        ).count()
        == 2
    )


@pytest.mark.django_db
def test_an_unknown_email_leaves_the_ticket_without_journey_or_event():
    ticket, _ = ticket_record(
        source="helpdesk", channel="web", external_ref="ZD-4", email="bob@example.com"
    )
    assert ticket.journey_id == ""
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_repeat_that_brings_the_journey_records_the_event_then():
    ticket_record(source="helpdesk", channel="web", external_ref="ZD-5")
    assert not Event.objects.exists()
    ticket, _ = ticket_record(
        source="helpdesk",
        channel="web",
        external_ref="ZD-5",
        journey_id="journey-dddddddddddddddd",
    )
    assert ticket.journey_id == "journey-dddddddddddddddd"
    assert Event.objects.get().journey_id == "journey-dddddddddddddddd"


@pytest.mark.django_db
def test_a_ticket_makes_the_journey_ticketed(category):
    article = factories.article(category, title="Reset your password", slug="reset")
    now = timezone.now()
    ticket_record(
        source="contact_form",
        channel="web",
        journey_id="journey-eeeeeeeeeeeeeeee",
        article=article,
        search_id="search-1",
    )
    event = Event.objects.get()
    assert event.article_id == article.pk and event.search_id == "search-1"
    outcome = journey_outcome(
        events=Event.objects.filter(journey_id="journey-eeeeeeeeeeeeeeee"),
        now=now + timedelta(hours=1),
    )
    assert outcome.outcome == "ticketed"


@pytest.mark.django_db
def test_a_late_helpdesk_ticket_keeps_its_own_time():
    created_at = timezone.now() - timedelta(days=2)
    ticket, _ = ticket_record(
        source="helpdesk",
        channel="web",
        external_ref="ZD-6",
        journey_id="journey-ffffffffffffffff",
        created_at=created_at,
    )
    assert ticket.created == created_at
    assert Event.objects.get().at == created_at


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad",
    [
        {"source": "fax"},
        {"channel": "pigeon"},
        {"status": "closed"},
        {"journey_id": "<script>"},
        {"external_ref": "x" * 101},
        {"email_hash": "not-a-hash"},
    ],
)
def test_bad_values_are_refused_and_nothing_is_stored(bad):
    args = {"source": "helpdesk", "channel": "web", "external_ref": "ZD-7", **bad}
    with pytest.raises(ValidationError):
        ticket_record(**args)
    assert not Ticket.objects.exists() and not Event.objects.exists()
