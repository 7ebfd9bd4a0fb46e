"""Internal (agents-only) articles: never shown to customers, visible to editors."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from articles.models import ArticlePage
from articles.selectors import (
    article_get_live,
    article_list_live,
    article_related_live,
    article_translations_live,
)
from articles.services import article_import_apply, article_import_validate
from tests import factories

INTERNAL_ARTICLE = """---
title: Refund override
summary: Agents only.
kind: guide
audience: internal
---
Ask a manager to approve refunds after 30 days.
"""
PUBLIC_ARTICLE = """---
title: Refunds
kind: faq
related: [refund-override]
---
Refunds are possible within 30 days.
"""


@pytest.fixture
def articles(category):
    public = factories.article(category, title="Refunds", slug="refunds")
    internal = factories.article(
        category,
        title="Refund override",
        slug="refund-override",
        audience="internal",
        body="Ask a manager.",
    )
    public.related_articles.set([internal])
    public.save_revision().publish()
    return public, internal


def editor(client, group="Editors"):
    user = User.objects.create_user(f"user-{group}", f"{group}@example.com", "pw")
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


def test_customers_get_a_404_for_an_internal_article(client, articles):
    public, internal = articles
    assert client.get(public.url).status_code == 200
    response = client.get(internal.url)
    assert response.status_code == 404
    assert b"Ask a manager" not in response.content


def test_editors_who_may_edit_see_an_internal_article_uncached(client, articles):
    _public, internal = articles
    response = editor(client).get(internal.url)
    assert response.status_code == 200
    assert b"Ask a manager" in response.content
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex"


def test_a_signed_in_user_without_edit_access_gets_a_404(client, articles):
    user = User.objects.create_user("customer", "c@example.com", "pw")
    client.force_login(user)
    assert client.get(articles[1].url).status_code == 404


def test_category_page_related_list_and_translations_leave_internal_out(
    client, articles, category
):
    public, internal = articles
    html = client.get(category.url).content.decode()
    assert "Refunds" in html and "Refund override" not in html
    assert "Refund override" not in client.get(public.url).content.decode()
    stored = ArticlePage.objects.get(pk=public.pk)
    assert [a.pk for a in stored.related_articles.all()] == [internal.pk]
    assert article_related_live(article=stored) == []
    assert article_translations_live(article=internal) == []
    assert [
        a.pk for a in article_translations_live(article=internal, include_internal=True)
    ] == [internal.pk]


def test_selectors_include_internal_only_when_asked(articles, category):
    public, internal = articles
    locale = category.locale
    assert list(article_list_live(locale=locale)) == [public]
    assert set(article_list_live(locale=locale, include_internal=True)) == {
        public,
        internal,
    }
    assert article_get_live(locale=locale, slug="refund-override") is None
    assert (
        article_get_live(locale=locale, slug="refund-override", include_internal=True)
        == internal
    )


def test_sitemap_lists_public_articles_only(client, articles):
    public, internal = articles
    xml = client.get("/sitemap.xml").content.decode()
    assert public.url in xml
    assert internal.url not in xml


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def content(tmp_path):
    root = tmp_path / "content"
    write(root, "en/billing/_category.md", "---\ntitle: Billing\n---\n")
    write(root, "en/billing/refund-override.md", INTERNAL_ARTICLE)
    write(root, "en/billing/refunds.md", PUBLIC_ARTICLE)
    return root


def run_import(root: Path):
    content = article_import_validate(root=root)
    assert content.errors == []
    return article_import_apply(content=content, root=root)


@pytest.mark.django_db
def test_front_matter_audience_internal_is_imported(content):
    run_import(content)
    assert ArticlePage.objects.get(slug="refund-override").audience == "internal"
    assert ArticlePage.objects.get(slug="refunds").audience == "public"


@pytest.mark.django_db
def test_changing_the_audience_in_the_file_publishes_a_new_revision(content):
    run_import(content)
    write(
        content,
        "en/billing/refund-override.md",
        INTERNAL_ARTICLE.replace("audience: internal\n", ""),
    )
    report = run_import(content)
    assert report.updated == ["en/billing/refund-override"]
    assert ArticlePage.objects.get(slug="refund-override").audience == "public"


@pytest.mark.django_db
def test_unknown_audience_is_reported_on_its_line(content):
    write(
        content,
        "en/billing/refund-override.md",
        INTERNAL_ARTICLE.replace("audience: internal", "audience: staff"),
    )
    errors = article_import_validate(root=content).errors
    assert [(e.path.name, e.line) for e in errors] == [("refund-override.md", 5)]
    assert "unknown audience 'staff'" in errors[0].message


@pytest.mark.django_db
def test_export_then_import_is_byte_identical_with_internal_articles(content, tmp_path):
    run_import(content)
    exported = tmp_path / "exported"
    call_command("export_content", str(exported), stdout=open("/dev/null", "w"))
    text = (exported / "en/billing/refund-override.md").read_text()
    assert "\naudience: internal\n" in text
    assert "audience" not in (exported / "en/billing/refunds.md").read_text()
    run_import(exported)
    again = tmp_path / "again"
    call_command("export_content", str(again), stdout=open("/dev/null", "w"))
    for path in exported.rglob("*.md"):
        assert path.read_bytes() == (again / path.relative_to(exported)).read_bytes()
