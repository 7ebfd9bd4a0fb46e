import re
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command

from articles.models import ArticlePage, CategoryPage, HelpCenterPage
from tests import factories
from tests.conftest import DEMO_CONTENT

LOCALES = ["en", "sv", "id", "zh-hant", "ru"]


@pytest.mark.django_db
def test_demo_content_imports_and_every_page_renders_in_every_locale(client):
    call_command("import_content", str(DEMO_CONTENT), stdout=open("/dev/null", "w"))
    counts = {
        code: ArticlePage.objects.live().filter(locale__language_code=code).count()
        for code in LOCALES
    }
    assert counts["en"] >= 40
    assert all(counts[code] >= 8 for code in LOCALES[1:]), counts
    assert CategoryPage.objects.live().filter(locale__language_code="en").count() >= 6
    assert (
        ArticlePage.objects.live()
        .filter(locale__language_code="en", kind="faq")
        .count()
        >= 10
    )

    for page in (
        list(HelpCenterPage.objects.live())
        + list(CategoryPage.objects.live())
        + list(ArticlePage.objects.live())
    ):
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        html = response.content.decode()
        assert f'<html lang="{page.locale.language_code}">' in html
        assert "kb-broken-link" not in html, page.url
    # The Swedish home page is in Swedish and lists Swedish categories.
    html = client.get("/sv/").content.decode()
    assert "Kestrels hjälpcenter" in html
    assert 'href="/sv/account-and-sign-in/"' in html


@pytest.mark.django_db
def test_root_redirects_to_a_locale_home(client, home):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 302
    assert response["Location"] == "/sv/"


def article_page(category, **kwargs):
    body = "Intro.\n\n## Step one\n\nText.\n\n## Step two\n\nMore.\n\n### Detail\n\nEven more.\n"
    return factories.article(category, body=kwargs.pop("body", body), **kwargs)


@pytest.mark.django_db
def test_article_page_shows_breadcrumbs_toc_related_review_date_and_vote_slot(
    client, category
):
    other = factories.article(
        category, title="Two-factor authentication", slug="two-factor-authentication"
    )
    page = article_page(
        category,
        title="Reset your password",
        slug="reset-your-password",
        last_reviewed="2026-09-14",
    )
    page.related_articles.add(other)
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    breadcrumbs = re.search(
        r'<nav aria-label="Breadcrumb" class="breadcrumbs">(.*?)</nav>', html, re.S
    ).group(1)
    assert (
        'href="/en/"' in breadcrumbs
        and 'href="/en/account-and-sign-in/"' in breadcrumbs
    )
    assert '<aside class="toc"' in html and 'href="#step-one"' in html
    assert (
        "Related articles" in html
        and 'href="/en/account-and-sign-in/two-factor-authentication/"' in html
    )
    assert '<time datetime="2026-09-14">' in html
    assert 'id="helpfulness"' in html


@pytest.mark.django_db
def test_short_articles_have_no_table_of_contents(client, category):
    page = factories.article(category, slug="short", body="Just one paragraph.")
    assert '<aside class="toc"' not in client.get(page.url).content.decode()


@pytest.mark.django_db
def test_language_switcher_lists_existing_translations(client, category):
    en = factories.article(
        category, title="Reset your password", slug="reset-your-password"
    )
    sv_home = factories.help_center("sv", title="Hjälpcenter")
    sv_category = factories.category(sv_home, title="Konto", slug="account-and-sign-in")
    sv = factories.article(
        sv_category, title="Återställ lösenordet", slug="reset-your-password"
    )
    ArticlePage.objects.filter(pk=sv.pk).update(translation_key=en.translation_key)
    html = client.get(en.url).content.decode()
    assert (
        '<a href="/sv/account-and-sign-in/reset-your-password/" hreflang="sv" lang="sv">'
        in html
    )
    assert 'hreflang="sv" href="http' in html  # <link rel="alternate">


@pytest.mark.django_db
def test_drafts_are_not_served(client, category):
    page = factories.article(category, slug="draft")
    page.unpublish()
    assert client.get("/en/account-and-sign-in/draft/").status_code == 404


@pytest.mark.django_db
def test_unknown_page_gets_the_help_center_404(client, home):
    response = client.get("/en/no-such-page/")
    assert response.status_code == 404
    assert "find that page" in response.content.decode()
    assert 'role="search"' in response.content.decode()


@pytest.mark.django_db
def test_sitemap_lists_live_pages_of_every_locale(client, category):
    factories.article(category, slug="in-sitemap")
    draft = factories.article(category, slug="draft-not-in-sitemap")
    draft.unpublish()
    sv_home = factories.help_center("sv", title="Hjälpcenter")
    factories.article(factories.category(sv_home, slug="konto"), slug="svensk")
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [
        el.text for el in ET.fromstring(response.content).findall("s:url/s:loc", ns)
    ]
    assert any(loc.endswith("/en/account-and-sign-in/in-sitemap/") for loc in locs)
    assert any(loc.endswith("/sv/konto/svensk/") for loc in locs)
    assert not any("draft-not-in-sitemap" in loc for loc in locs)


@pytest.mark.django_db
def test_html_in_titles_and_summaries_is_escaped(client, category):
    page = factories.article(
        category,
        slug="xss",
        title="<script>alert(1)</script>",
        summary='<img src=x onerror="alert(2)">',
    )
    html = client.get(page.url).content.decode()
    assert (
        "<script>alert(1)" not in html
        and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    )
    assert "<img src=x" not in html
    cat_html = client.get(category.url).content.decode()
    assert "<script>alert(1)" not in cat_html


@pytest.mark.django_db
def test_search_query_is_escaped_on_the_search_page(client, home):
    html = client.get(
        "/en/search/", {"q": '"><script>alert(1)</script>'}
    ).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.django_db
def test_pages_work_without_javascript(client, category):
    page = factories.article(category, slug="no-js")
    html = client.get(page.url).content.decode()
    # Only same-origin static scripts, loaded as enhancements: nothing inline.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all(re.fullmatch(r'<script src="/static/[^"]+" defer>', s) for s in scripts)
    assert "</script>" not in html.replace("></script>", "")
    assert "<form" in html
