"""POST /api/v1/tickets: the signed helpdesk webhook."""

import hashlib
import hmac
import json

import pytest

from feedback.models import Event, Ticket
from feedback.services import email_hash_compute, ticket_record

SECRET = "shared-webhook-secret"
URL = "/api/v1/tickets"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.KB_HELPDESK_WEBHOOK_SECRET = SECRET


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, payload, signature=None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {}
    if signature is None:
        headers["HTTP_X_KB_SIGNATURE"] = sign(body)
    elif signature is not False:
        headers["HTTP_X_KB_SIGNATURE"] = signature
    return client.post(URL, body, content_type="application/json", **headers)


@pytest.mark.django_db
def test_a_signed_ticket_is_stored_with_its_journey(client):
    response = post(
        client,
        {"ticket_id": 4711, "journey_id": "journey-aaaaaaaaaaaaaaaa", "subject": "Hi"},
    )
    assert response.status_code == 201
    assert response.json() == {
        "ticket_id": "4711",
        "created": True,
        "journey_id": "journey-aaaaaaaaaaaaaaaa",
        "status": "open",
        "reopened_count": 0,
    }
    ticket = Ticket.objects.get()
    assert (ticket.source, ticket.external_ref, ticket.subject) == (
        "helpdesk",
        "4711",
        "Hi",
    )
    assert Event.objects.get().type == "ticket"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    [
        False,
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        "md5=abc",
        sign(b"another body"),
        sign(b'{"ticket_id": "1"}', secret="wrong-secret"),
    ],
)
def test_a_missing_or_bad_signature_is_401_and_nothing_is_stored(client, signature):
    response = post(client, {"ticket_id": "1"}, signature=signature)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    assert not Ticket.objects.exists() and not Event.objects.exists()


@pytest.mark.django_db
def test_the_signature_covers_the_raw_body_not_a_reserialisation(client):
    raw = b'{ "ticket_id" : "9",   "status": "open" }'
    assert post(client, None, raw=raw).status_code == 201
    tampered = raw.replace(b'"9"', b'"8"')
    assert post(client, None, raw=tampered, signature=sign(raw)).status_code == 401
    assert list(Ticket.objects.values_list("external_ref", flat=True)) == ["9"]


@pytest.mark.django_db
def test_an_upper_case_hex_signature_is_accepted(client):
    body = json.dumps({"ticket_id": "10"}).encode()
    signature = "sha256=" + sign(body).split("=", 1)[1].upper()
    assert post(client, None, raw=body, signature=signature).status_code == 201


@pytest.mark.django_db
def test_without_a_configured_secret_the_webhook_refuses_everything(client, settings):
    settings.KB_HELPDESK_WEBHOOK_SECRET = ""
    body = json.dumps({"ticket_id": "1"}).encode()
    response = post(client, None, raw=body, signature=sign(body, secret=""))
    assert response.status_code == 503
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_repeat_is_200_and_not_created_again(client):
    payload = {"ticket_id": "ZD-1", "journey_id": "journey-bbbbbbbbbbbbbbbb"}
    assert post(client, payload).status_code == 201
    again = post(client, payload)
    assert again.status_code == 200 and again.json()["created"] is False
    assert Ticket.objects.count() == 1
    assert Event.objects.filter(type="ticket").count() == 1


@pytest.mark.django_db
def test_a_reopened_status_updates_the_ticket_and_counts_the_reopen(client):
    post(client, {"ticket_id": "ZD-2"})
    post(client, {"ticket_id": "ZD-2", "status": "solved"})
    response = post(client, {"ticket_id": "ZD-2", "status": "reopened"})
    assert response.status_code == 200
    assert response.json()["status"] == "reopened"
    assert response.json()["reopened_count"] == 1
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.reopened_count) == ("reopened", 1)


@pytest.mark.django_db
def test_an_email_or_its_hash_joins_the_contact_form_journey(client):
    ticket_record(
        source="contact_form",
        channel="web",
        journey_id="journey-cccccccccccccccc",
        email="ada@example.com",
    )
    by_email = post(client, {"ticket_id": "ZD-3", "email": "Ada@example.com"})
    by_hash = post(
        client,
        {
            "ticket_id": "ZD-4",
            "email_hash": email_hash_compute(email="ada@example.com"),
        },
    )
    assert by_email.json()["journey_id"] == "journey-cccccccccccccccc"
    assert by_hash.json()["journey_id"] == "journey-cccccccccccccccc"
    assert "ada" not in json.dumps(list(Ticket.objects.values("subject", "email_hash")))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"not json", None),
        (b"[1, 2]", None),
        (b"{}", "ticket_id"),
        (b'{"ticket_id": "1", "status": "closed"}', "status"),
        (b'{"ticket_id": "1", "journey_id": "<script>"}', "journey_id"),
        (b'{"ticket_id": "1", "email_hash": "xyz"}', "email_hash"),
        (b'{"ticket_id": "1", "created_at": "yesterday"}', "created_at"),
    ],
)
def test_bad_payloads_are_400_json_and_store_nothing(client, raw, field):
    response = post(client, None, raw=raw)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not Ticket.objects.exists()
