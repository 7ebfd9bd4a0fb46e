"""feedback.services.contact_request_submit: forwarding first, then the ticket."""

import hashlib
import hmac

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from feedback.forwarding import ContactForwardError, ContactNotConfigured
from feedback.models import Event, Ticket
from feedback.services import contact_request_submit, email_hash_compute
from tests.webhook_server import start_webhook_server

REQUEST = {
    "subject": "Cannot sign in",
    "message": "The code never arrives.\n<b>help</b>",
    "email": "ada@example.com",
    "source": "contact_form",
    "channel": "web",
    "locale": "en",
    "journey_id": "journey-aaaaaaaaaaaaaaaa",
}


@pytest.fixture
def webhook(settings):
    state, server = start_webhook_server()
    settings.KB_CONTACT_WEBHOOK_URL = state.url
    settings.KB_CONTACT_EMAIL_TO = []
    yield state
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_a_request_is_posted_to_the_webhook_as_json_then_recorded(webhook, settings):
    settings.KB_CONTACT_WEBHOOK_SECRET = "outgoing-secret"
    ticket = contact_request_submit(**REQUEST, escalate=True)
    [received] = webhook.requests
    assert received["path"] == "/hooks/contact"
    body = received["json"]
    assert body["subject"] == "Cannot sign in"
    assert body["message"] == "The code never arrives.\n<b>help</b>"
    assert body["email"] == "ada@example.com"
    assert body["journey_id"] == "journey-aaaaaaaaaaaaaaaa"
    assert body["email_hash"] == email_hash_compute(email="ada@example.com")
    expected = hmac.new(b"outgoing-secret", received["body"], hashlib.sha256)
    assert received["headers"]["x-kb-signature"] == "sha256=" + expected.hexdigest()
    stored = Ticket.objects.get()
    assert stored.pk == ticket.pk and stored.source == "contact_form"
    assert stored.email_hash == body["email_hash"]
    assert sorted(Event.objects.values_list("type", flat=True)) == [
        "escalated",
        "ticket",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 404, 302])
def test_a_failing_webhook_records_nothing(webhook, status):
    webhook.status = status
    with pytest.raises(ContactForwardError):
        contact_request_submit(**REQUEST)
    assert len(webhook.requests) == 1
    assert not Ticket.objects.exists() and not Event.objects.exists()


@pytest.mark.django_db
def test_a_slow_webhook_times_out_and_records_nothing(webhook, settings):
    settings.KB_CONTACT_WEBHOOK_TIMEOUT = 0.3
    webhook.delay = 5
    with pytest.raises(ContactForwardError):
        contact_request_submit(**REQUEST)
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_an_unreachable_webhook_records_nothing(settings):
    state, server = start_webhook_server()
    server.shutdown()
    server.server_close()
    settings.KB_CONTACT_WEBHOOK_URL = state.url
    with pytest.raises(ContactForwardError):
        contact_request_submit(**REQUEST)
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_without_a_webhook_the_request_is_emailed(settings):
    settings.KB_CONTACT_WEBHOOK_URL = ""
    settings.KB_CONTACT_EMAIL_TO = ["support@example.com"]
    contact_request_submit(**REQUEST)
    [message] = mail.outbox
    assert message.to == ["support@example.com"]
    assert message.reply_to == ["ada@example.com"]
    assert "Cannot sign in" in message.subject
    assert "The code never arrives." in message.body
    assert "journey-aaaaaaaaaaaaaaaa" in message.body
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_with_nothing_configured_nothing_is_recorded(settings):
    settings.KB_CONTACT_WEBHOOK_URL = ""
    settings.KB_CONTACT_EMAIL_TO = []
    with pytest.raises(ContactNotConfigured):
        contact_request_submit(**REQUEST)
    assert not Ticket.objects.exists() and not mail.outbox


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "   "),
        ("subject", "x" * 201),
        ("message", ""),
        ("message", "x" * 5001),
        ("email", "not-an-address"),
        ("email", "ada@example.com\nBcc: eve@example.com"),
        ("journey_id", "<script>"),
    ],
)
def test_bad_fields_are_refused_before_anything_is_sent(webhook, field, value):
    with pytest.raises(ValidationError) as exc:
        contact_request_submit(**{**REQUEST, field: value})
    assert field in exc.value.message_dict
    assert not webhook.requests and not Ticket.objects.exists()
