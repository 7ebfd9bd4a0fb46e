"""The XSS corpus (tests/security/xss_payloads.txt) through every way text gets in.

Each test puts payloads in where a visitor, a writer or an API client can, renders
what a browser would get, and parses it as a browser would (tests/security/audit.py):
no <script>, no on* attribute, no javascript:/data: URL, no active element that a
payload introduced. JSON answers must be served as application/json, never HTML.
"""

from __future__ import annotations

import html
import json
import re
import uuid

import pytest
import yaml
from django.test import Client
from django.urls import reverse

from articles.markdown import markdown_render
from articles.models import ArticlePage
from articles.services import article_import_apply, article_import_validate
from feedback.models import Vote
from feedback.services import api_key_create
from search.models import Synonym
from tests import factories
from tests.security.audit import (
    assert_no_live_script,
    live_script,
    payloads,
    sample,
)

ALL = payloads()
STORABLE = payloads(storable=True)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def browser() -> Client:
    return Client(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER)


def csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def assert_json(response) -> dict:
    """JSON answers are served as JSON only: a browser never renders them as HTML."""
    assert response["Content-Type"].split(";")[0] == "application/json", response[
        "Content-Type"
    ]
    assert response["X-Content-Type-Options"] == "nosniff"
    return response.json()


def assert_snippet_is_marks_only(snippet: str) -> None:
    """A search snippet is escaped text with <mark> around matches, nothing else."""
    tags = set(re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", snippet))
    assert tags <= {"mark"}, snippet
    assert not re.search(r"<mark\s[^>]", snippet), snippet
    assert_no_live_script(snippet, fragment=True)


# --- the audit itself -------------------------------------------------------


def test_corpus_is_large_and_the_audit_catches_it_unescaped():
    """Protects the other tests from passing vacuously: the corpus is at least 100
    payloads, and the browser-like audit does flag the payloads when they are put
    into a page unescaped (as a `|safe` or a missing sanitiser would), while it
    flags none of them once escaped."""
    assert len(ALL) >= 100
    raw_hits = [p for p in ALL if live_script(f"<div>{p}</div>", fragment=True)]
    assert len(raw_hits) >= 100, len(raw_hits)
    for payload in (
        "<img src=x onerror=alert(1)>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<svg><animate attributeName="href" values="javascript:alert(1)"/></svg>',
        '<math href="javascript:alert(1)">CLICKME</math>',
        # What a filter that strips "<script>" once would leave behind:
        "<script>alert(1)</script>",
    ):
        assert live_script(payload, fragment=True), payload
    for payload in ALL:
        escaped = html.escape(payload)
        assert not live_script(f'<p title="{escaped}">{escaped}</p>', fragment=True)
        assert not live_script(f"<textarea>{escaped}</textarea>", fragment=True)


# --- Markdown bodies --------------------------------------------------------


@pytest.mark.parametrize("payload", ALL, ids=[f"p{i:03d}" for i in range(len(ALL))])
def test_markdown_pipeline_renders_no_payload_live(payload):
    """Protects: the Markdown -> nh3 allow-list pipeline, for every payload as raw
    text, as a link or image URL, in a heading (its anchor and table of contents),
    a list, a table cell, raw HTML and an `article:` link resolved at render time."""
    resolve_article = lambda slug: f"/en/account/{slug}/"  # noqa: E731
    for text in (
        payload,
        f"[link]({payload})",
        f"![image]({payload})",
        f"## {payload}\n\ntext",
        f"* {payload}",
        f"| head |\n|:---|\n| {payload} |",
        f'<a href="{html.escape(payload)}">x</a>',
        f"[x](article:{payload})",
    ):
        rendered = markdown_render(text, resolve_article=resolve_article)
        assert_no_live_script(rendered.html, fragment=True)
        for token in rendered.toc_tokens:
            # The TOC is put into the page by the template, escaped: it must be text.
            assert "<" not in token["id"] and '"' not in token["id"]


# --- article pages: bodies, titles, summaries, categories ------------------


def spread(items: list[str], count: int) -> list[str]:
    """`count` payloads spread evenly over the corpus."""
    return sample(items, max(1, len(items) // count))[:count]


def plain_article(home):
    category = factories.category(home, title="Account", slug="account")
    return factories.article(
        category,
        title="Reset your password",
        slug="reset-your-password",
        summary="Change a forgotten password.",
        body="Choose **Forgot password** on the sign-in page.",
    )


@pytest.fixture
def hostile_site(home):
    """A category and ten articles written entirely of payloads (a spread of the
    corpus as titles, summaries and tags; the whole storable corpus over their
    bodies), plus a plain article for "did you mean" and synonyms."""
    bad_category = factories.category(
        home, title=STORABLE[1][:255], slug="hostile", description=STORABLE[2]
    )
    count = 10
    titles = spread(STORABLE, count)
    summaries = spread(list(reversed(STORABLE)), count)
    articles = [
        factories.article(
            bad_category,
            title=title[:255],
            slug=f"hostile-{index}",
            summary=summaries[index][:300],
            body="alert script words\n\n" + "\n\n".join(STORABLE[index::count]),
            tags=[titles[(index + 1) % count][:100]],
        )
        for index, title in enumerate(titles)
    ]
    plain_article(home)
    return {"category": bad_category, "articles": articles, "home": home}


@pytest.fixture
def small_site(home):
    """The plain article and one article whose body holds a spread of payloads."""
    category = factories.category(home, title="Hostile", slug="hostile")
    factories.article(
        category,
        title="Hostile body",
        slug="hostile-body",
        body="alert script words\n\n" + "\n\n".join(spread(STORABLE, 40)),
    )
    return plain_article(home)


@pytest.mark.django_db
def test_pages_built_from_hostile_titles_bodies_and_summaries_run_nothing(
    client, hostile_site
):
    """Protects: escaping of titles, summaries, category names and tags in every
    public template (home, category, article, breadcrumbs, TOC, related, meta
    description, <title>), and the sanitised article body."""
    pages = [hostile_site["home"].url, hostile_site["category"].url]
    pages += [a.url for a in hostile_site["articles"]]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_live_script(response.content.decode())
    # The payload text is shown (escaped), not silently dropped.
    article = hostile_site["articles"][0]
    assert html.escape(article.title, quote=False) in client.get(
        article.url
    ).content.decode().replace("&#x27;", "'").replace("&quot;", '"')


# --- search: query reflection, snippets, "did you mean" ---------------------


@pytest.mark.django_db
def test_every_payload_as_a_search_query_is_reflected_inert(client, hostile_site):
    """Protects: the search page's reflection of the query (input value, headings,
    "no results for", pagination links, <title>), its error message and the
    highlighted snippets of hostile article bodies, for the whole corpus."""
    # Three payloads per query (the corpus in ~75 requests), each reflected as typed.
    for index in range(0, len(ALL), 3):
        query = " ".join(ALL[index : index + 3])
        response = client.get("/en/search/", {"q": query})
        assert response.status_code in (200, 400), query
        assert_no_live_script(response.content.decode())
    # A query of plain words finds the hostile bodies: their snippets are inert too.
    page = client.get("/en/search/", {"q": "alert script onerror"}).content.decode()
    assert page.count('class="snippet"') >= 3
    assert "<mark>" in page
    assert_no_live_script(page)


@pytest.mark.django_db
def test_did_you_mean_reflects_hostile_words_inert(client, small_site):
    """Protects: the "did you mean" suggestion (its link and text), which echoes the
    visitor's own words next to the corrected ones."""
    suggested = 0
    for payload in spread(ALL, 25):
        response = client.get("/en/search/", {"q": f"pasword {payload}"})
        page = response.content.decode()
        assert_no_live_script(page)
        suggested += "did-you-mean" in page
    assert suggested >= 5, "the suggestion was hardly shown: nothing was tested"


@pytest.mark.django_db
def test_hostile_synonyms_neither_break_search_nor_run(client, small_site, home):
    """Protects: synonyms (written in the admin) that expand queries, on the search
    page and in the admin's synonym list."""
    for payload in spread(STORABLE, 10):
        Synonym.objects.create(locale=home.locale, terms=f"password, {payload}"[:500])
        page = client.get("/en/search/", {"q": "password"}).content.decode()
        assert "Reset your password" in page
        assert_no_live_script(page)
        page = client.get("/en/search/", {"q": payload}).content.decode()
        assert_no_live_script(page)


@pytest.mark.django_db
def test_synonym_admin_list_shows_hostile_terms_inert(admin_client, home):
    """Protects: the admin's synonym snippet listing, where payloads typed by one
    writer are shown to another."""
    for payload in spread(STORABLE, 10):
        Synonym.objects.create(locale=home.locale, terms=payload[:500])
    response = admin_client.get("/admin/snippets/kb_search/synonym/")
    assert response.status_code == 200
    assert_no_live_script(response.content.decode(), within="listing")


# --- front matter through the content importer -------------------------------


@pytest.mark.django_db
def test_front_matter_payloads_import_and_render_inert(client, home, tmp_path):
    """Protects: title, summary, tags and category description read from content
    files (YAML front matter) by `import_content`, then shown on the site."""
    root = tmp_path / "content"
    folder = root / "en" / "hostile-import"
    folder.mkdir(parents=True)
    front = {"title": STORABLE[5][:255], "description": STORABLE[6]}
    (folder / "_category.md").write_text(
        f"---\n{yaml.safe_dump(front, allow_unicode=True)}---\n", encoding="utf-8"
    )
    chosen = spread(STORABLE, 8)
    for index, payload in enumerate(chosen):
        front = {
            "title": payload[:255],
            "summary": payload[:300],
            "tags": [payload[:100], "xss"],
            "kind": "faq",
        }
        (folder / f"imported-{index}.md").write_text(
            f"---\n{yaml.safe_dump(front, allow_unicode=True)}---\n\n{payload}\n",
            encoding="utf-8",
        )
    content = article_import_validate(root=root)
    assert not content.errors, [str(e) for e in content.errors]
    report = article_import_apply(content=content, root=root)
    assert len(report.created) == len(chosen)
    for url in ["/en/", "/en/hostile-import/"] + [
        f"/en/hostile-import/imported-{i}/" for i in range(len(chosen))
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_live_script(response.content.decode())
    page = client.get("/en/search/", {"q": "alert"}).content.decode()
    assert 'class="snippet"' in page
    assert_no_live_script(page)


# --- vote comments ------------------------------------------------------------


@pytest.mark.django_db
def test_vote_comments_are_inert_for_the_visitor_and_in_the_admin(
    admin_client, category, settings
):
    """Protects: vote comments typed by visitors, shown back to them in the vote
    form and to writers on the admin's "Vote comments" page."""
    settings.KB_VOTE_RATE_LIMIT_IP = settings.KB_VOTE_RATE_LIMIT_VISITOR = 10_000
    article = factories.article(category, title="Reset your password", slug="reset")
    comments = spread(STORABLE, 12)
    for payload in comments:
        visitor = browser()
        token = csrf_token(visitor.get(article.url).content.decode())
        response = visitor.post(
            "/feedback/vote/",
            {
                "article": article.pk,
                "helpful": "no",
                "reason": "",
                "comment": payload,
                "csrfmiddlewaretoken": token,
            },
        )
        assert response.status_code == 302, payload
        page = visitor.get(article.url).content.decode()
        assert_no_live_script(page)
    assert Vote.objects.exclude(comment="").count() == len(comments)
    response = admin_client.get(reverse("feedback_vote_comments"))
    assert response.status_code == 200
    assert_no_live_script(response.content.decode(), within="listing")


# --- the JSON API ---------------------------------------------------------------


@pytest.mark.django_db
def test_search_and_suggest_api_answer_json_with_inert_snippets(client, small_site):
    """Protects: /api/v1/search and /api/v1/suggest stay JSON (even when a browser
    asks for HTML) and their HTML snippets hold nothing but escaped text and <mark>."""
    for payload in spread(ALL, 30):
        for url in ("/api/v1/search", "/api/v1/suggest"):
            response = client.get(url, {"q": payload})
            assert response.status_code in (200, 400), (url, payload)
            assert_json(response)
            # A browser asking for HTML still gets JSON (a 406), never a page.
            assert_json(client.get(url, {"q": payload}, HTTP_ACCEPT="text/html"))
    body = assert_json(client.get("/api/v1/search", {"q": "alert script onerror"}))
    assert body["results"]
    for hit in body["results"]:
        assert_snippet_is_marks_only(hit["snippet"])


@pytest.mark.django_db
def test_bad_api_parameters_answer_400_json_not_html(client, home):
    """Protects: hostile values in parameters come back in a JSON error body, never
    rendered as an HTML error page."""
    for payload in spread(ALL, 12):
        for params in (
            {"q": "password", "locale": payload},
            {"q": "password", "kind": payload},
            {"q": "password", "limit": payload},
            {"q": payload + "x" * 501},
        ):
            response = client.get("/api/v1/search", params)
            assert response.status_code == 400, params
            body = assert_json(response)
            assert set(body["error"]) >= {"code", "message", "field"}


@pytest.mark.django_db
def test_events_api_rejects_hostile_events_with_a_json_error(client, category):
    """Protects: /api/v1/events echoes bad ids, types and field names only inside a
    JSON 400 body, for a valid key; and malformed bodies are JSON errors too."""
    _key, raw_key = api_key_create(name="Bot", scope="bot")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}
    for payload in spread(STORABLE, 12):
        event = {
            "id": payload,
            "type": payload,
            "channel": payload,
            "journey_id": payload,
            payload[:40]: 1,
        }
        response = client.post(
            "/api/v1/events",
            data=json.dumps({"events": [event]}),
            content_type="application/json",
            **auth,
        )
        assert response.status_code == 400, payload
        body = assert_json(response)
        assert body["error"]["code"] == "invalid_events"
    response = client.post(
        "/api/v1/events", data=ALL[0], content_type="application/json", **auth
    )
    assert response.status_code == 400
    assert_json(response)
    # A valid event still goes through: the 400s above were about the payloads.
    article = factories.article(category, title="Reset", slug="reset")
    good = {"id": str(uuid.uuid4()), "type": "view", "article_id": article.pk}
    response = client.post(
        "/api/v1/events",
        data=json.dumps({"events": [good]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
    )
    assert response.status_code == 200, response.content


# --- the article, answer and contact inputs ----------------------------------


@pytest.mark.django_db
def test_articles_api_serves_hostile_articles_as_json_with_sanitised_html(
    client, small_site
):
    """Protects: /api/v1/articles... returns titles and summaries as JSON strings and
    any HTML body only after the Markdown sanitiser."""
    body = assert_json(client.get("/api/v1/articles", {"locale": "en"}))
    assert body
    for article in ArticlePage.objects.live():
        response = client.get(f"/api/v1/articles/{article.pk}")
        assert response.status_code == 200
        data = assert_json(response)
        for key, value in data.items():
            if "html" in key and isinstance(value, str):
                assert_no_live_script(value, fragment=True)
    for payload in spread(STORABLE, 10):
        response = client.get(f"/api/v1/articles/en/{payload}")
        assert response.status_code in (400, 404)
        assert_json(response)


@pytest.mark.django_db
def test_answer_api_reflects_hostile_questions_as_json(client, small_site):
    """Protects: /api/v1/answer, which quotes the question and an article passage."""
    url = reverse("api:answer")
    for payload in spread(ALL, 15):
        response = client.get(url, {"q": payload})
        if response.status_code == 405:
            response = client.post(
                url, data=json.dumps({"q": payload}), content_type="application/json"
            )
        assert response.status_code < 500, payload
        data = assert_json(response)
        for value in _strings(data):
            if "<" in value and "mark" in value:
                assert_snippet_is_marks_only(value)


def _strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


@pytest.mark.django_db
def test_contact_form_fields_are_inert_when_shown_again(home, settings):
    """Protects: the contact form (/<locale>/contact/), which shows what was typed
    back (subject search, then the form again on a validation error)."""
    settings.KB_CONTACT_RATE_LIMIT_IP = settings.KB_CONTACT_RATE_LIMIT_VISITOR = 10_000
    shown_again = 0
    for payload in spread(STORABLE, 8):
        visitor = browser()
        response = visitor.get("/en/contact/", {"subject": payload})
        page = response.content.decode()
        assert_no_live_script(page)
        if "csrfmiddlewaretoken" not in page:
            continue
        fields = set(re.findall(r'<(?:input|textarea|select)[^>]*name="([^"]+)"', page))
        data = {name: payload for name in fields}
        # An invalid e-mail keeps the form on screen with every value shown again;
        # the honeypot stays empty, as a person leaves it.
        data.update(website="", email=payload, csrfmiddlewaretoken=csrf_token(page))
        response = visitor.post("/en/contact/", data, follow=True)
        assert response.status_code in (200, 400), payload
        assert_no_live_script(response.content.decode())
        shown_again += 1
    assert shown_again, "the contact form never showed: nothing was tested"
