"""The Reports menu: each report renders its figures, filters, and exports CSV."""

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from feedback.models import Event
from feedback.rollups import rollups_rebuild
from feedback.services import vote_record
from tests import factories

BASE = "/admin/kb-reports"


@pytest.fixture
def admin_client(client, db):
    user = User.objects.create_superuser("lead", "lead@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def articles(category):
    return {
        "reset": factories.article(
            category,
            title="Reset your password",
            slug="reset",
            last_reviewed=timezone.localdate(),
        ),
        "refund": factories.article(
            category,
            title="Refunds",
            slug="refunds",
            last_reviewed=timezone.localdate() - timedelta(days=400),
        ),
    }


def add(type_, journey, at, channel="web", locale="en", **kwargs):
    return Event.objects.create(
        type=type_, journey_id=journey, at=at, channel=channel, locale=locale, **kwargs
    )


def searched(journey, at, query, results=3, **kwargs):
    return add(
        "search",
        journey,
        at,
        search_id=uuid.uuid4().hex,
        query=query,
        result_count=results,
        **kwargs,
    )


@pytest.fixture
def history(articles, site_afternoon):
    """Today: 3 journeys on the web, 1 in the widget; 12 days ago: 1 rolled up."""
    reset, refund = articles["reset"], articles["refund"]
    now = timezone.now() - timedelta(minutes=30)
    s = searched("w-1", now, "reset password")
    add("click", "w-1", now, article=reset, search_id=s.search_id, rank=1)
    add("resolved", "w-1", now + timedelta(minutes=1), article=reset)
    s = searched("w-2", now, "refund")
    add("view", "w-2", now, article=refund, search_id=s.search_id)
    add("ticket", "w-2", now + timedelta(minutes=5))
    searched("w-3", now, "refund")
    searched("w-4", now, "gift cards", results=0)
    searched("w-5", now, "gift cards", results=0, channel="widget")
    s = searched("x-1", now, "reset password", channel="widget")
    add(
        "click",
        "x-1",
        now,
        article=reset,
        search_id=s.search_id,
        rank=1,
        channel="widget",
    )
    old = now - timedelta(days=12)
    s = searched("o-1", old, "refund")
    add("click", "o-1", old, article=refund, search_id=s.search_id, rank=1)
    rollups_rebuild(day_from=timezone.localdate(old), day_to=timezone.localdate(old))
    return {"today": timezone.localdate(), "old": timezone.localdate(old)}


def get_csv(client, url, **params):
    response = client.get(url, {**params, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content)))


@pytest.mark.django_db
def test_deflection_over_time_shows_rates_per_day_and_channel(admin_client, history):
    response = admin_client.get(f"{BASE}/deflection/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "<polyline" in html and '<script src="http' not in html
    rows = get_csv(admin_client, f"{BASE}/deflection/")
    by_key = {(r["Period start"], r["Channel"]): r for r in rows}
    today = by_key[(history["today"].isoformat(), "web")]
    assert (today["Journeys started"], today["Deflected"], today["Ticketed"]) == (
        "4",
        "1",
        "1",
    )
    assert today["Abandoned"] == "2" and today["Deflection rate"] == "0.5"
    assert by_key[(history["today"].isoformat(), "widget")]["Deflection rate"] == "1.0"
    assert by_key[(history["old"].isoformat(), "web")]["Deflected"] == "1"


@pytest.mark.django_db
def test_deflection_report_weekly_and_filtered_by_channel(admin_client, history):
    rows = get_csv(
        admin_client, f"{BASE}/deflection/", interval="week", channel="widget"
    )
    monday = history["today"] - timedelta(days=history["today"].weekday())
    assert [(r["Period start"], r["Channel"]) for r in rows] == [
        (monday.isoformat(), "widget")
    ]
    assert rows[0]["Journeys started"] == "2"


@pytest.mark.django_db
def test_top_searches_have_click_through_and_deflection(admin_client, history):
    html = admin_client.get(f"{BASE}/top-searches/").content.decode()
    assert "reset password" in html and "refund" in html
    rows = {r["Query"]: r for r in get_csv(admin_client, f"{BASE}/top-searches/")}
    assert rows["refund"]["Searches"] == "3"
    assert rows["reset password"]["Click-through rate"] == "1.0"
    assert rows["refund"]["Click-through rate"] == "0.3333"
    assert rows["refund"]["Deflection rate"] == "0.5"  # one old deflection, one ticket
    dated = get_csv(
        admin_client,
        f"{BASE}/top-searches/",
        date_from=history["today"].isoformat(),
        date_to=history["today"].isoformat(),
    )
    assert {r["Query"]: r["Searches"] for r in dated}["refund"] == "2"


@pytest.mark.django_db
def test_content_gaps_link_to_a_prefilled_new_article(admin_client, history, category):
    html = admin_client.get(f"{BASE}/content-gaps/").content.decode()
    assert "gift cards" in html and "Create article" in html
    rows = get_csv(admin_client, f"{BASE}/content-gaps/")
    assert [(r["Query"], r["Locale"], r["Searches with no result"]) for r in rows] == [
        ("gift cards", "en", "2")
    ]
    response = admin_client.get(
        f"{BASE}/create-article/", {"query": "gift cards", "locale": "en"}
    )
    assert response.status_code == 302
    assert (
        f"/admin/pages/add/articles/articlepage/{category.pk}/" in response["Location"]
    )
    form = admin_client.get(response["Location"]).content.decode()
    assert 'value="Gift cards"' in form


@pytest.mark.django_db
def test_unclicked_searches(admin_client, history):
    rows = get_csv(admin_client, f"{BASE}/unclicked-searches/")
    assert {r["Query"]: r["Searches with results but no click"] for r in rows} == {
        "refund": "2"
    }


@pytest.mark.django_db
def test_articles_by_deflections_and_before_tickets(admin_client, articles, history):
    html = admin_client.get(f"{BASE}/article-deflections/").content.decode()
    assert "Reset your password" in html
    rows = get_csv(admin_client, f"{BASE}/article-deflections/")
    assert [(r["Article"], r["Deflections"]) for r in rows] == [
        ("Reset your password", "2"),
        ("Refunds", "1"),
    ]
    rows = get_csv(admin_client, f"{BASE}/articles-before-ticket/")
    assert [(r["Article"], r["Tickets after reading"]) for r in rows] == [
        ("Refunds", "1")
    ]
    widget = get_csv(admin_client, f"{BASE}/article-deflections/", channel="widget")
    assert [(r["Article"], r["Deflections"]) for r in widget] == [
        ("Reset your password", "1")
    ]


@pytest.mark.django_db
def test_least_helpful_articles_show_reasons_and_escaped_comments(
    admin_client, articles
):
    refund = articles["refund"]
    for n, reason in enumerate(["outdated", "outdated", "unclear"]):
        vote_record(
            article=refund,
            helpful=False,
            visitor_id=f"visitor-{n}-aaaaaaaaaaaa",
            reason=reason,
            comment='<script>alert("x")</script> prices changed' if n == 0 else "",
        )
    vote_record(article=articles["reset"], helpful=True, visitor_id="visitor-9-aaaa")
    html = admin_client.get(f"{BASE}/least-helpful/").content.decode()
    assert "It is out of date: 2" in html
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; prices changed" in html
    rows = get_csv(admin_client, f"{BASE}/least-helpful/")
    assert [(r["Article"], r["Not helpful"], r["Helpful"]) for r in rows] == [
        ("Refunds", "3", "0")
    ]
    assert rows[0]["Reasons"] == "It is out of date: 2, It is hard to understand: 1"
    assert rows[0]["Newest comments"] == '<script>alert("x")</script> prices changed'
    swedish = get_csv(admin_client, f"{BASE}/least-helpful/", locale="sv")
    assert swedish == []


@pytest.mark.django_db
def test_stale_articles(admin_client, articles, category):
    factories.article(category, title="Never reviewed", slug="never")
    rows = get_csv(admin_client, f"{BASE}/stale-articles/")
    assert [r["Article"] for r in rows] == ["Never reviewed", "Refunds"]
    html = admin_client.get(f"{BASE}/stale-articles/").content.decode()
    assert "Refunds" in html and "Reset your password" not in html


@pytest.mark.django_db
def test_outdated_translations(admin_client, articles):
    source = articles["refund"]
    sv_home = factories.help_center("sv")
    sv_category = factories.category(sv_home, title="Konto", slug="konto")
    translation = factories.article(
        sv_category,
        title="Återbetalningar",
        slug="aterbetalningar",
        translation_key=source.translation_key,
    )
    fresh = factories.article(
        sv_category,
        title="Återställ lösenord",
        slug="aterstall",
        translation_key=articles["reset"].translation_key,
    )
    fresh.refresh_from_db()
    articles["reset"].refresh_from_db()
    assert fresh.last_published_at > articles["reset"].last_published_at
    source.body = "New refund rules."
    source.save_revision().publish()
    rows = get_csv(admin_client, f"{BASE}/outdated-translations/")
    assert [(r["Translation"], r["Source article id"]) for r in rows] == [
        (translation.title, str(source.pk))
    ]
    assert get_csv(admin_client, f"{BASE}/outdated-translations/", locale="en") == []


@pytest.mark.django_db
def test_a_bad_date_range_falls_back_to_the_default_without_error(admin_client):
    response = admin_client.get(
        f"{BASE}/top-searches/", {"date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert response.status_code == 200
    today = timezone.localdate()
    default = f"{today - timedelta(days=29):%Y-%m-%d} – {today:%Y-%m-%d}"
    assert default in response.content.decode()


@pytest.mark.django_db
def test_every_report_renders_its_results_fragment(admin_client, history):
    for slug in [
        "deflection",
        "top-searches",
        "content-gaps",
        "unclicked-searches",
        "article-deflections",
        "articles-before-ticket",
        "least-helpful",
        "stale-articles",
        "outdated-translations",
    ]:
        assert admin_client.get(f"{BASE}/{slug}/").status_code == 200, slug
        assert admin_client.get(f"{BASE}/{slug}/results/").status_code == 200, slug


@pytest.mark.django_db
def test_reports_need_the_reports_permission(client, db):
    assert "/admin/login/" in client.get(f"{BASE}/deflection/")["Location"]
    editor = User.objects.create_user("editor", "e@example.com", "pw")
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)
    denied = client.get(f"{BASE}/deflection/")
    assert denied.status_code == 302 and denied["Location"] == "/admin/"
    assert f"{BASE}/deflection/" not in client.get("/admin/").content.decode()
    lead = User.objects.create_user("lead", "l@example.com", "pw")
    lead.groups.add(Group.objects.get(name="Support leads"))
    client.force_login(lead)
    assert client.get(f"{BASE}/deflection/").status_code == 200
    moderator = User.objects.create_user("mod", "m@example.com", "pw")
    moderator.groups.add(Group.objects.get(name="Moderators"))
    client.force_login(moderator)
    assert client.get(f"{BASE}/content-gaps/").status_code == 200


@pytest.mark.django_db
def test_dashboard_panel_shows_this_weeks_figures(admin_client, history):
    html = admin_client.get("/admin/").content.decode()
    assert "Self-service this week" in html
    assert 'data-kb-figure="tickets-avoided">2<' in html
    assert 'data-kb-figure="deflection-rate">67 %<' in html
    assert "“gift cards” (en)" in html
    assert f"{BASE}/content-gaps/" in html and f"{BASE}/deflection/" in html
