"""Tracked agent links: /l/<token> redirects to the article and counts the open."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import AgentLink, Event
from feedback.services import agent_link_create, agent_link_open
from tests import factories

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


@pytest.fixture
def article(category):
    return factories.article(category, title="Refund a payment", slug="refund-payment")


@pytest.fixture
def link(article):
    return agent_link_create(article=article, ticket_ref="ZD-7")


def test_tokens_are_short_and_unique(article):
    tokens = {
        agent_link_create(article=article, ticket_ref="T").token for _ in range(50)
    }
    assert len(tokens) == 50
    assert all(
        len(t) == 8 and t.replace("-", "").replace("_", "").isalnum() for t in tokens
    )


def test_internal_articles_cannot_get_a_link(category):
    from django.core.exceptions import ValidationError

    internal = factories.article(category, slug="override", audience="internal")
    with pytest.raises(ValidationError):
        agent_link_create(article=internal, ticket_ref="ZD-7")
    assert not AgentLink.objects.exists()


def test_opening_redirects_and_records_the_open(client, link, article):
    response = client.get(f"/l/{link.token}", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    assert response["Location"] == "/en/account-and-sign-in/refund-payment/"
    assert (
        "no-cache" in response["Cache-Control"]
        or "max-age=0" in response["Cache-Control"]
    )
    client.get(f"/l/{link.token}", HTTP_USER_AGENT=BROWSER)
    link.refresh_from_db()
    assert link.opened_count == 2
    assert link.first_opened_at <= link.last_opened_at
    views = Event.objects.filter(type="view")
    assert views.count() == 2
    event = views.first()
    assert event.channel == "agent" and event.article_id == article.pk
    assert event.extra == {"agent_link": link.token} and event.locale == "en"


def test_first_open_time_is_kept(link):
    first = timezone.now() - timedelta(hours=2)
    agent_link_open(token=link.token, now=first)
    agent_link_open(token=link.token, now=first + timedelta(hours=1))
    link.refresh_from_db()
    assert link.first_opened_at == first
    assert link.last_opened_at == first + timedelta(hours=1)


def test_the_journey_cookie_ties_the_open_to_the_journey(client, link):
    client.cookies["kb_journey"] = "journey-abcdefghijklmnop"
    client.get(f"/l/{link.token}", HTTP_USER_AGENT=BROWSER)
    assert Event.objects.get(type="view").journey_id == "journey-abcdefghijklmnop"


def test_link_previews_redirect_without_counting(client, link):
    response = client.get(
        f"/l/{link.token}", HTTP_USER_AGENT="Slackbot-LinkExpanding 1.0"
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.opened_count == 0 and not Event.objects.exists()


def test_unknown_token_is_a_friendly_404_page(client, link):
    response = client.get("/l/nope<b>x", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"<b>x" not in response.content
    assert not Event.objects.exists()


def test_a_link_to_an_unpublished_article_is_a_404(client, link, article):
    article.unpublish()
    assert client.get(f"/l/{link.token}", HTTP_USER_AGENT=BROWSER).status_code == 404
    link.refresh_from_db()
    assert link.opened_count == 0


def test_a_link_to_an_article_made_internal_later_is_a_404(client, link, article):
    article.audience = "internal"
    article.save_revision().publish()
    assert client.get(f"/l/{link.token}", HTTP_USER_AGENT=BROWSER).status_code == 404


@pytest.fixture
def editor_client(client, db):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("editor", "editor@example.com", "pw")
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    return client


@pytest.fixture
def linked(category):
    """Two articles: "Refund" linked on 3 tickets (one reopened), "Invoices" once."""
    from feedback.models import Ticket

    refund = factories.article(category, title="Refund <a payment>", slug="refund")
    invoices = factories.article(category, title="Download invoices", slug="invoices")
    for ref in ("ZD-1", "ZD-2", "ZD-3"):
        agent_link_create(article=refund, ticket_ref=ref)
    opened = agent_link_create(article=invoices, ticket_ref="ZD-9")
    agent_link_open(token=opened.token)
    agent_link_open(token=opened.token)
    Ticket.objects.create(source="helpdesk", external_ref="ZD-2", status="reopened")
    Ticket.objects.create(
        source="helpdesk", external_ref="ZD-3", status="solved", reopened_count=1
    )
    Ticket.objects.create(source="helpdesk", external_ref="ZD-9", status="solved")
    return refund, invoices


def test_article_counts_rank_most_linked_first_with_reopened_tickets(linked):
    from feedback.selectors import agent_link_article_counts, agent_link_list

    refund, invoices = linked
    rows = list(agent_link_article_counts(links=agent_link_list()))
    assert [r["article"] for r in rows] == [refund.pk, invoices.pk]
    figures = ("links", "opens", "links_opened", "tickets", "tickets_reopened")
    assert [rows[0][name] for name in figures] == [3, 0, 0, 3, 2]
    assert [rows[1][name] for name in figures] == [1, 2, 1, 1, 0]


def test_agent_link_report_renders_escaped_and_exports_csv(editor_client, linked):
    response = editor_client.get("/admin/reports/agent-links/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Agent links" in html
    assert "Refund &lt;a payment&gt;" in html and "<a payment>" not in html
    assert "Download invoices" in html

    csv = editor_client.get("/admin/reports/agent-links/?export=csv")
    assert csv.status_code == 200
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0] == (
        "Article id,Article,Locale,Links sent,Opens,Links opened,Tickets,"
        "Tickets reopened"
    )
    refund, invoices = linked
    assert lines[1] == f"{refund.pk},Refund <a payment>,en,3,0,0,3,2"
    assert lines[2] == f"{invoices.pk},Download invoices,en,1,2,1,1,0"


def test_agent_link_report_filters_by_date(editor_client, linked):
    AgentLink.objects.update(created=timezone.now() - timedelta(days=30))
    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    response = editor_client.get(
        "/admin/reports/agent-links/", {"created_from": since, "export": "csv"}
    )
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 1  # headings only


def test_agent_link_report_is_in_the_reports_menu_and_needs_admin_access(
    client, editor_client
):
    sidebar = editor_client.get("/admin/").content.decode()
    assert "Agent links" in sidebar and "/admin/reports/agent-links/" in sidebar
    editor_client.logout()
    response = client.get("/admin/reports/agent-links/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
