"""manage.py journey_delete: a customer's deletion request."""

import io

import pytest
from django.core.management import CommandError, call_command

from feedback.models import Event, Ticket
from feedback.services import search_record, ticket_record


def run(*args):
    out = io.StringIO()
    call_command("journey_delete", *args, stdout=out)
    return out.getvalue()


def journey(journey_id, email=None):
    search_record(query="refund", locale="en", result_ids=[], journey_id=journey_id)
    ticket_record(
        source="contact_form", channel="web", journey_id=journey_id, email=email
    )


@pytest.mark.django_db
def test_a_journey_loses_its_events_and_tickets_and_others_keep_theirs():
    journey("journey-aaaaaaaaaaaaaaaa")
    journey("journey-bbbbbbbbbbbbbbbb")
    output = run("journey-aaaaaaaaaaaaaaaa")
    assert output.strip() == "Deleted 2 event(s) and 1 ticket(s) of 1 journey(s)."
    assert not Event.objects.filter(journey_id="journey-aaaaaaaaaaaaaaaa").exists()
    assert not Ticket.objects.filter(journey_id="journey-aaaaaaaaaaaaaaaa").exists()
    assert Event.objects.filter(journey_id="journey-bbbbbbbbbbbbbbbb").count() == 2
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_an_email_also_deletes_the_journeys_and_tickets_it_joins():
    journey("journey-aaaaaaaaaaaaaaaa", email="ada@example.com")
    journey("journey-cccccccccccccccc", email="ADA@example.com")
    ticket_record(
        source="helpdesk", channel="web", external_ref="ZD-1", email="ada@example.com"
    )
    ticket_record(
        source="helpdesk", channel="web", external_ref="ZD-2", email="bob@example.com"
    )
    journey("journey-dddddddddddddddd", email="bob@example.com")
    output = run("journey-aaaaaaaaaaaaaaaa", "--email", "ada@example.com")
    # Journeys A and C (search + ticket each, and ZD-1's ticket joined C by hash).
    assert output.strip() == "Deleted 5 event(s) and 3 ticket(s) of 2 journey(s)."
    assert set(Ticket.objects.values_list("external_ref", "journey_id")) == {
        ("ZD-2", ""),
        ("", "journey-dddddddddddddddd"),
    }
    assert set(Event.objects.values_list("journey_id", flat=True)) == {
        "journey-dddddddddddddddd"
    }


@pytest.mark.django_db
def test_an_unknown_journey_deletes_nothing():
    journey("journey-aaaaaaaaaaaaaaaa")
    assert "Deleted 0 event(s) and 0 ticket(s)" in run("journey-zzzzzzzzzzzzzzzz")
    assert Event.objects.count() == 2


@pytest.mark.django_db
def test_the_command_needs_a_journey_or_an_email():
    with pytest.raises(CommandError):
        run()
