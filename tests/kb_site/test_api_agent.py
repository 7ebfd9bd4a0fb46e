"""/api/v1/agent/…: search with internal articles and figures, and tracked links."""

import uuid

import pytest

from feedback.models import AgentLink, Event
from feedback.services import api_key_create, event_record_batch, vote_record
from tests import factories


@pytest.fixture
def agent_key(db):
    return api_key_create(name="Helpdesk sidebar", scope="agent")[1]


@pytest.fixture
def articles(category):
    public = factories.article(
        category,
        title="Refund a payment",
        slug="refund-payment",
        body="Customers can ask for a refund within 30 days.",
    )
    internal = factories.article(
        category,
        title="Refund override for agents",
        slug="refund-override",
        audience="internal",
        body="Agents may override the refund window with a manager's approval.",
    )
    return public, internal


def get(client, path, params, raw_key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"} if raw_key else {}
    return client.get(path, params, **headers)


def post(client, path, body, raw_key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"} if raw_key else {}
    return client.post(path, body, content_type="application/json", **headers)


def test_agent_search_includes_internal_articles_with_figures(
    client, articles, agent_key
):
    public, internal = articles
    for n in range(3):
        vote_record(article=public, helpful=True, visitor_id=f"visitor-{n}")
    event_record_batch(
        events=[
            {
                "id": str(uuid.uuid4()),
                "type": "click",
                "journey_id": "j-1",
                "search_id": "s-1",
                "article_id": public.pk,
                "rank": 1,
            },
            {
                "id": str(uuid.uuid4()),
                "type": "resolved",
                "journey_id": "j-1",
                "article_id": public.pk,
            },
        ],
        channel_default="widget",
    )
    response = get(client, "/api/v1/agent/search", {"q": "refund"}, agent_key)
    assert response.status_code == 200
    data = response.json()
    hits = {hit["id"]: hit for hit in data["results"]}
    assert set(hits) == {public.pk, internal.pk}
    assert hits[internal.pk]["internal"] is True
    assert hits[public.pk]["internal"] is False
    assert hits[public.pk]["helpfulness"]["up"] == 3
    assert hits[public.pk]["helpfulness"]["score"] > 0
    assert hits[public.pk]["deflection"]["clicks"] == 1
    assert hits[public.pk]["deflection"]["deflections"] == 1
    assert hits[public.pk]["deflection"]["deflections_explicit"] == 1
    assert hits[internal.pk]["deflection"]["deflections"] == 0
    assert hits[public.pk]["url"].startswith("http://testserver/en/")
    # Agent look-ups are not customer searches.
    assert not Event.objects.filter(type="search").exists()


def test_customer_search_still_hides_internal_articles(client, articles):
    data = client.get("/api/v1/search", {"q": "refund"}).json()
    assert [hit["id"] for hit in data["results"]] == [articles[0].pk]


def test_agent_endpoints_need_an_agent_key(client, articles):
    bot_key = api_key_create(name="Bot", scope="bot")[1]
    assert get(client, "/api/v1/agent/search", {"q": "refund"}).status_code == 401
    assert (
        get(client, "/api/v1/agent/search", {"q": "refund"}, bot_key).status_code == 403
    )
    body = {"article": articles[0].pk, "ticket_ref": "ZD-1"}
    assert post(client, "/api/v1/agent/links", body).status_code == 401
    assert post(client, "/api/v1/agent/links", body, bot_key).status_code == 403
    assert not AgentLink.objects.exists()


def test_bad_agent_search_input_gets_a_400(client, articles, agent_key):
    response = get(client, "/api/v1/agent/search", {"q": "x", "limit": 0}, agent_key)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "limit"


def test_creating_a_link_returns_a_short_absolute_url(client, articles, agent_key):
    public, _internal = articles
    response = post(
        client,
        "/api/v1/agent/links",
        {"article": public.pk, "ticket_ref": "ZD-1042"},
        agent_key,
    )
    assert response.status_code == 201
    data = response.json()
    link = AgentLink.objects.get()
    assert data["token"] == link.token and len(link.token) <= 12
    assert data["url"] == f"http://testserver/l/{link.token}"
    assert data["article"] == public.pk and data["ticket_ref"] == "ZD-1042"
    assert (
        data["article_url"]
        == "http://testserver/en/account-and-sign-in/refund-payment/"
    )
    assert link.ticket_ref == "ZD-1042" and link.article_id == public.pk
    assert link.api_key.name == "Helpdesk sidebar"
    follow = client.get(f"/l/{link.token}")
    assert follow.status_code == 302
    assert follow["Location"] == "/en/account-and-sign-in/refund-payment/"


@pytest.mark.parametrize(
    "body, code, field",
    [
        ({"ticket_ref": "ZD-1"}, "invalid", "article"),
        ({"article": 999999, "ticket_ref": "ZD-1"}, "unknown_article", "article"),
        ({"article": "one", "ticket_ref": "ZD-1"}, "invalid", "article"),
        ({"article": None, "ticket_ref": "ZD-1"}, "invalid", "article"),
        ({"ticket_ref": "x" * 101, "article": 1}, "invalid", "ticket_ref"),
        ({"ticket_ref": "  ", "article": 1}, "invalid", "ticket_ref"),
    ],
)
def test_bad_link_requests_get_a_400(client, articles, agent_key, body, code, field):
    response = post(client, "/api/v1/agent/links", body, agent_key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["field"] == field
    assert not AgentLink.objects.exists()


def test_internal_articles_cannot_be_linked_for_customers(client, articles, agent_key):
    response = post(
        client,
        "/api/v1/agent/links",
        {"article": articles[1].pk, "ticket_ref": "ZD-1"},
        agent_key,
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "internal_article",
        "message": "This article is internal: customers cannot open it.",
        "field": "article",
    }
    assert not AgentLink.objects.exists()
