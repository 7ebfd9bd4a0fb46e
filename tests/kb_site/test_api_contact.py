"""POST /api/v1/contact: the widget's contact form."""

import pytest

from feedback.models import Event, Ticket
from feedback.services import api_key_create
from tests import factories
from tests.webhook_server import start_webhook_server

URL = "/api/v1/contact"
JOURNEY = "journey-widget-aaaaaaaaaa"


@pytest.fixture
def webhook(settings):
    state, server = start_webhook_server()
    settings.KB_CONTACT_WEBHOOK_URL = state.url
    yield state
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def widget_key(db):
    return api_key_create(name="Widget", scope="widget")[1]


@pytest.fixture
def article(category):
    return factories.article(category, title="Reset your password", slug="reset")


def post(client, body, key):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(URL, body, content_type="application/json", **headers)


def body(**overrides):
    return {
        "subject": "Cannot reset my password",
        "message": "No e-mail arrives.",
        "email": "ada@example.com",
        "locale": "en",
        "journey_id": JOURNEY,
        "search_id": "search-1",
        **overrides,
    }


@pytest.mark.django_db
def test_a_widget_request_is_forwarded_and_answers_the_ticket_id(
    client, widget_key, webhook, article
):
    response = post(client, body(article_id=article.pk), widget_key)
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert response.json() == {"ticket_id": ticket.pk}
    assert (ticket.source, ticket.channel, ticket.journey_id, ticket.article_id) == (
        "widget",
        "widget",
        JOURNEY,
        article.pk,
    )
    assert webhook.requests[0]["json"]["channel"] == "widget"
    assert webhook.requests[0]["json"]["article"]["id"] == article.pk
    event = Event.objects.get()
    assert (event.type, event.journey_id, event.channel, event.search_id) == (
        "ticket",
        JOURNEY,
        "widget",
        "search-1",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"subject": ""}, "subject"),
        ({"message": "x" * 5001}, "message"),
        ({"locale": "xx"}, "locale"),
        ({"journey_id": "<b>"}, "journey_id"),
        ({"article_id": 999999}, "article_id"),
    ],
)
def test_bad_fields_are_a_400_json_and_nothing_is_sent(
    client, widget_key, webhook, overrides, field
):
    response = post(client, body(**overrides), widget_key)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not webhook.requests and not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_failing_helpdesk_is_a_503_and_nothing_is_recorded(
    client, widget_key, webhook
):
    webhook.status = 500
    response = post(client, body(), widget_key)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "contact_unavailable"
    assert not Ticket.objects.exists() and not Event.objects.exists()


@pytest.mark.django_db
def test_a_key_is_required_and_must_be_a_widget_key(client, webhook, db):
    assert post(client, body(), None).status_code == 401
    bot_key = api_key_create(name="Bot", scope="bot")[1]
    assert post(client, body(), bot_key).status_code == 403
    assert not webhook.requests
