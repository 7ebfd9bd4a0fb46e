"""Who may do what: CSRF on every form, the admin behind login and roles, API keys
kept as hashes and compared in constant time.

Already covered elsewhere and not repeated here: the vote form refusing a post
without a token and the vote rate limits' 429 (tests/feedback/test_views.py); the
contact form's token and 429 (tests/kb_site/test_contact_page.py); the API's 429
throttling (tests/kb_site/test_api_throttling.py); an editor submitting for review
instead of publishing (tests/kb_site/test_admin.py); the hash not containing the
key (tests/feedback/test_services.py).
"""

from __future__ import annotations

import hmac
import io
import json
import re

import html5lib
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView
from wagtail.models import WorkflowState

from articles.models import ArticlePage
from feedback.models import ApiKey, Vote
from feedback.services import api_key_authenticate, api_key_create
from search.models import Synonym
from tests import factories

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PROJECT_APPS = ("kb_site", "articles", "search", "feedback")


def browser(**kwargs) -> Client:
    return Client(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER, **kwargs)


def user_in(group: str | None, name: str) -> User:
    user = User.objects.create_user(name, f"{name}@example.com", "pw")
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def post_forms(html: str) -> list[tuple[str, dict[str, str]]]:
    """(action, fields) of every <form method=post> in a page, as a browser sees it."""
    root = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    forms = []
    for form in root.iter("form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        fields = {}
        for element in form.iter():
            name = element.get("name")
            if element.tag in {"input", "textarea", "select", "button"} and name:
                fields.setdefault(name, element.get("value") or "x")
        forms.append((form.get("action") or "", fields))
    return forms


def form_errors(html: str) -> list[str]:
    """The admin's error messages in a page, for a readable failure."""
    root = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    return [
        (
            [i.get("name") for i in e.iter() if i.get("name")],
            " ".join(" ".join(e.itertext()).split())[:300],
        )
        for e in root.iter()
        if "w-field--error" in (e.get("class") or "")
    ]


# --- CSRF ---------------------------------------------------------------------


@pytest.fixture
def public_pages(category):
    article = factories.article(category, title="Reset your password", slug="reset")
    pages = [category.get_parent().url, category.url, article.url, "/en/search/?q=x"]
    for name, query in (("contact", "?subject=refund"), ("widget_demo", "")):
        try:
            pages.append(reverse(name) + query)
        except Exception:  # noqa: S112 -- a page another helper may not have added
            continue
    return pages


@pytest.mark.django_db
def test_every_public_post_form_is_refused_without_its_csrf_token(public_pages):
    """Protects: CSRF on every form a visitor can post (vote, follow-up, contact, and
    any form added later): each carries a token, and a post without it is a 403 that
    stores nothing."""
    seen = 0
    for url in public_pages:
        client = browser()
        page = client.get(url)
        if page.status_code != 200:
            continue
        for action, fields in post_forms(page.content.decode()):
            assert "csrfmiddlewaretoken" in fields, f"{url}: form {action} has no token"
            fields.pop("csrfmiddlewaretoken")
            votes = Vote.objects.count()
            response = client.post(action or url, fields)
            assert response.status_code == 403, (url, action, response.status_code)
            assert Vote.objects.count() == votes
            seen += 1
    assert seen >= 1, "no post form found: nothing was tested"


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


@pytest.mark.django_db
def test_no_view_of_ours_opts_out_of_csrf_except_the_key_authenticated_api():
    """Protects: CSRF can't be switched off quietly. The only csrf_exempt views of
    the project are DRF API views (exempt by design), and those must not accept the
    session cookie, which is what CSRF protects; they authenticate by API key."""
    exempt = []
    for route, callback in _patterns(get_resolver()):
        module = getattr(callback, "__module__", "") or ""
        view_class = getattr(callback, "view_class", None) or getattr(
            callback, "cls", None
        )
        if view_class is not None:
            module = view_class.__module__
        if not module.startswith(PROJECT_APPS):
            continue
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            classes = view_class().get_authenticators()
            assert not any(isinstance(a, SessionAuthentication) for a in classes), route
            continue
        if getattr(callback, "csrf_exempt", False):
            exempt.append(route)
    assert not exempt, f"csrf_exempt views: {exempt}"


@pytest.fixture
def editor(db):
    return user_in("Editors", "editor")


@pytest.mark.django_db
def test_admin_forms_refuse_posts_without_a_csrf_token(editor, category):
    """Protects: CSRF in the admin (a logged-in writer lured to a hostile page must
    not create or change pages or synonyms, nor be logged in as someone else)."""
    client = browser()
    client.force_login(editor)
    add_page = f"/admin/pages/add/articles/articlepage/{category.pk}/"
    assert client.get(add_page).status_code == 200
    response = client.post(
        add_page,
        {
            "title": "Forged",
            "slug": "forged",
            "summary": "x",
            "kind": "faq",
            "body": "x",
            "action-submit": "Submit",
        },
    )
    assert response.status_code == 403
    assert not ArticlePage.objects.filter(slug="forged").exists()

    admin = browser()
    admin.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    synonyms = "/admin/snippets/kb_search/synonym/add/"
    assert admin.get(synonyms).status_code == 200
    response = admin.post(synonyms, {"locale": category.locale_id, "terms": "a, b"})
    assert response.status_code == 403
    assert not Synonym.objects.exists()

    anonymous = browser()
    page = anonymous.get("/admin/login/").content.decode()
    assert "csrfmiddlewaretoken" in page
    response = anonymous.post("/admin/login/", {"username": "editor", "password": "pw"})
    assert response.status_code == 403
    assert "_auth_user_id" not in anonymous.session


# --- admin: login and roles ----------------------------------------------------


def admin_urls_without_arguments() -> list[str]:
    found = []
    resolver = get_resolver()
    for name in list(resolver.reverse_dict.keys()):
        if not isinstance(name, str):
            continue
        try:
            url = reverse(name)
        except Exception:  # noqa: S112 -- names needing arguments are skipped
            continue
        # The login pages and Wagtail's icon sprite are public by design.
        if url.startswith("/admin/") and not url.startswith(
            (
                "/admin/login",
                "/admin/logout",
                "/admin/password_reset",
                "/admin/jsi18n",
                "/admin/sprite",
            )
        ):
            found.append(url)
    for namespace in ("kb_reports",):
        for key in resolver.namespace_dict:
            if key == namespace:
                _prefix, sub = resolver.namespace_dict[key]
                for name in sub.reverse_dict:
                    if isinstance(name, str):
                        try:
                            found.append(reverse(f"{namespace}:{name}"))
                        except Exception:  # noqa: S112
                            continue
    return sorted(set(found))


@pytest.mark.django_db
def test_every_admin_page_needs_a_login_and_admin_access(client, home):
    """Protects: the admin and its reports (vote comments, deflection reports,
    agent links, synonyms, API keys): anonymous visitors are sent to the login page
    and a signed-in user without admin access is refused, on every argument-free
    admin URL, ours included."""
    urls = admin_urls_without_arguments()
    ours = [u for u in urls if u.startswith(("/admin/feedback/", "/admin/kb-"))]
    assert "/admin/feedback/comments/" in urls and ours, urls
    outsider = Client()
    outsider.force_login(user_in(None, "customer"))
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert "/admin/login/" in response["Location"], url
        response = outsider.get(url)
        assert response.status_code in (302, 403), url
        assert response.status_code == 403 or "/admin/login/" in response["Location"], (
            url
        )


@pytest.mark.django_db
def test_writers_cannot_manage_users_or_api_keys(editor, home):
    """Protects: the Editors role is for content: user accounts, groups, settings and
    workflows stay with administrators."""
    client = Client()
    client.force_login(editor)
    assert client.get("/admin/").status_code == 200
    for url in ("/admin/users/", "/admin/groups/", "/admin/workflows/list/"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert response.status_code == 403 or "/admin/" in response["Location"], url


@pytest.mark.django_db
def test_review_is_required_a_writer_cannot_approve_and_a_moderator_can(
    editor, category
):
    """Protects: the review step. An editor's submission stays unpublished, the
    editor can neither publish it nor approve it through the workflow, and only a
    moderator's approval makes it live (so the refusal is about the role)."""
    writer = browser()
    writer.force_login(editor)

    def token(client, url):
        return re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"',
            client.get(url).content.decode(),
        ).group(1)

    add_url = f"/admin/pages/add/articles/articlepage/{category.pk}/"
    data = {
        "title": "Needs review",
        "slug": "needs-review",
        "summary": "x",
        "kind": "faq",
        "audience": "public",
        "body": "Body",
        "tags": "",
        "last_reviewed": "",
        "action-submit": "Submit for moderation",
        "csrfmiddlewaretoken": token(writer, add_url),
    }
    response = writer.post(add_url, data)
    assert response.status_code == 302, (
        form_errors(response.content.decode()),
        sorted(data),
    )
    page = ArticlePage.objects.get(slug="needs-review")
    state = WorkflowState.objects.get(object_id=str(page.pk), status="in_progress")
    task_state = state.current_task_state

    action_url = reverse(
        "wagtailadmin_pages:workflow_action", args=(page.pk, "approve", task_state.pk)
    )
    edit_url = f"/admin/pages/{page.pk}/edit/"
    response = writer.post(action_url, {"csrfmiddlewaretoken": token(writer, edit_url)})
    assert response.status_code in (302, 403)
    page.refresh_from_db()
    assert not page.live

    moderator = browser()
    moderator.force_login(user_in("Moderators", "moderator"))
    response = moderator.post(
        action_url, {"csrfmiddlewaretoken": token(moderator, edit_url)}
    )
    assert response.status_code in (200, 302), response.status_code
    page.refresh_from_db()
    assert page.live


# --- API keys -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_holds_no_raw_api_key(home):
    """Protects: API keys at rest. A copy of the database (every feedback table, as
    `dumpdata` writes it) reveals neither a raw key nor its secret part, only the
    public prefix and a SHA-256 hash."""
    _key, raw_key = api_key_create(name="Widget", scope="widget")
    secret = raw_key.split("_", 2)[2]
    dump = io.StringIO()
    call_command("dumpdata", "feedback", stdout=dump)
    text = dump.getvalue()
    assert '"prefix"' in text and raw_key.split("_", 2)[1] in text
    assert raw_key not in text and secret not in text
    stored = ApiKey.objects.get()
    assert len(stored.key_hash) == 64 and secret not in stored.key_hash


@pytest.mark.django_db
def test_api_keys_are_compared_in_constant_time(monkeypatch, home):
    """Protects: key checks that leak nothing through timing: the stored hash is
    compared with hmac.compare_digest (not ==), also when the prefix matches but the
    secret is wrong."""
    _key, raw_key = api_key_create(name="Bot", scope="bot")
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    forged = raw_key[:-4] + ("AAAA" if not raw_key.endswith("AAAA") else "BBBB")
    assert api_key_authenticate(raw_key=forged) is None
    assert api_key_authenticate(raw_key=raw_key) is not None
    assert len(calls) == 2
    stored = ApiKey.objects.get().key_hash
    assert all(stored in pair for pair in calls)


@pytest.mark.django_db
def test_api_rejects_missing_forged_and_revoked_keys(client, category):
    """Protects: the key check at the API's door: no key, a forged secret behind a
    real prefix, and a revoked key are all refused with a JSON 401."""
    article = factories.article(category, title="Reset", slug="reset")
    key, raw_key = api_key_create(name="Bot", scope="bot")
    body = json.dumps(
        {
            "events": [
                {
                    "id": "00000000-0000-4000-8000-000000000001",
                    "type": "view",
                    "article_id": article.pk,
                }
            ]
        }
    )

    def post(authorization=None):
        extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        return client.post(
            "/api/v1/events", data=body, content_type="application/json", **extra
        )

    assert post().status_code == 401
    assert post(f"Bearer {raw_key[:-2]}xx").status_code == 401
    assert post(f"Bearer {raw_key}").status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(revoked_at="2026-01-01T00:00:00Z")
    response = post(f"Bearer {raw_key}")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
