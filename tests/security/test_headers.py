"""Security headers on every kind of response, and `check --deploy` on production."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import html5lib
import pytest

from tests import factories
from tests.security.audit import live_script

REPO = Path(__file__).resolve().parents[2]
PUBLIC_TEMPLATE_DIRS = [
    REPO / "kb_site" / "templates",
    REPO / "articles" / "templates",
    REPO / "feedback" / "templates",
    REPO / "search" / "templates",
]


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


@pytest.fixture
def public_urls(category):
    article = factories.article(
        category,
        title="Reset your password",
        slug="reset-your-password",
        body="| a | b |\n|:--|--:|\n| 1 | 2 |\n\n## One\n\n## Two\n\n## Three",
    )
    return [
        category.get_parent().url,
        category.url,
        article.url,
        "/en/search/?q=password",
        "/en/search/?q=zzzznothing",
        "/en/no-such-page/",
    ]


@pytest.mark.django_db
def test_public_pages_send_a_csp_without_inline_script_or_framing(client, public_urls):
    """Protects: the Content-Security-Policy on public pages. Without 'unsafe-inline'
    in script-src, an HTML injection that slips past escaping still cannot run; with
    frame-ancestors 'none' the site cannot be framed for clickjacking."""
    for url in public_urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        policy = csp_directives(response["Content-Security-Policy"])
        script_src = policy.get("script-src", policy["default-src"])
        assert "'unsafe-inline'" not in script_src, url
        assert "'unsafe-eval'" not in script_src, url
        assert not {"*", "https:", "http:", "data:"} & set(script_src), url
        assert policy["object-src"] == ["'none'"], url
        assert policy["base-uri"] == ["'none'"], url
        assert policy["frame-ancestors"] == ["'none'"], url
        style_src = policy.get("style-src", policy["default-src"])
        assert "'unsafe-inline'" not in style_src, url


@pytest.mark.django_db
def test_public_pages_send_nosniff_referrer_and_frame_headers(client, public_urls):
    """Protects: MIME sniffing (nosniff), referrer leaks of search queries to other
    sites (Referrer-Policy), and framing by browsers without CSP (X-Frame-Options)."""
    for url in [*public_urls, "/api/v1/search?q=password", "/healthz"]:
        response = client.get(url)
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] in {
            "strict-origin-when-cross-origin",
            "same-origin",
            "no-referrer",
            "strict-origin",
        }, url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url


@pytest.mark.django_db
def test_public_pages_carry_no_inline_script_style_or_handlers(client, public_urls):
    """Protects: CSP compatibility of the public templates. An inline <script>, an
    on* attribute or a <style>/style="" in a template would be blocked by the CSP
    above (and is how injections hide); every script must come from /static/."""
    for url in public_urls:
        response = client.get(url)
        html = response.content.decode()
        assert not live_script(html), url
        assert "<style" not in html.lower(), url
        allowed = csp_directives(response["Content-Security-Policy"])["style-src-attr"]
        for value in style_attributes(html):
            assert csp_hash(value) in allowed, f"{url}: style={value!r} is blocked"


def style_attributes(html: str) -> list[str]:
    root = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    return [e.get("style") for e in root.iter() if e.get("style") is not None]


def csp_hash(value: str) -> str:
    digest = base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def test_markdown_table_alignment_is_allowed_by_the_csp_hashes(settings):
    """Protects: the style-src-attr hashes match exactly what the Markdown pipeline
    emits for aligned table columns, so alignment works without 'unsafe-inline'."""
    from articles.markdown import markdown_render

    html = markdown_render("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |").html
    values = set(style_attributes(html))
    assert len(values) == 3
    allowed = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src-attr"]
    assert allowed[0] == "'unsafe-hashes'"
    assert {csp_hash(v) for v in values} == set(allowed[1:])


def test_public_templates_have_no_inline_script_or_handlers():
    """Protects: the same rule at the source, for templates no test page renders yet
    (e.g. a new contact or widget-demo page): no inline <script> body, no on*= handler,
    no javascript: URL, no inline style."""
    import re

    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", re.I)
    handler = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
    problems = []
    for folder in PUBLIC_TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            if {"admin", "reports"} & set(path.relative_to(folder).parts):
                continue  # rendered inside the Wagtail admin, under the admin policy
            text = re.sub(
                r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}",
                "",
                path.read_text(encoding="utf-8"),
                flags=re.S,
            )
            for pattern, what in (
                (inline_script, "inline <script>"),
                (handler, "inline event handler"),
                (re.compile(r"javascript:", re.I), "javascript: URL"),
                (re.compile(r"<style|\sstyle=", re.I), "inline style"),
            ):
                if pattern.search(text):
                    problems.append(f"{path.relative_to(REPO)}: {what}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_admin_gets_its_own_looser_policy_but_still_cannot_be_framed_by_others(
    admin_client, home
):
    """Protects: the admin exception stays narrow. The Wagtail admin ships inline
    scripts (so it gets 'unsafe-inline'), but scripts from other hosts stay blocked
    and only the admin itself may frame it (its page preview)."""
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    policy = csp_directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    # The public policy is untouched for a public path that merely resembles it.
    public = csp_directives(client_header(admin_client, "/en/admin-guide/"))
    assert "'unsafe-inline'" not in public["script-src"]


def client_header(client, url: str) -> str:
    return client.get(url)["Content-Security-Policy"]


def production_env(tmp_path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "KB_", "DATABASE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="kb_site.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="help.example.com",
        KB_DATA_DIR=str(tmp_path / "data"),
    )
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    """Protects: HSTS, SSL redirect, secure session and CSRF cookies, nosniff,
    X-Frame-Options DENY and a strong SECRET_KEY in production: Django's deploy checks
    warn as soon as any of them is dropped from kb_site/settings/production.py."""
    result = subprocess.run(  # noqa: S603 -- fixed arguments
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_production_settings_harden_cookies_hsts_and_csp(tmp_path):
    """Protects: the production values themselves, beyond what `check --deploy` looks
    at: a year of HSTS with subdomains, Secure+HttpOnly cookies, the proxy header, and
    a CSP that upgrades stray http:// loads."""
    code = (
        "from django.conf import settings as s;"
        "import json;"
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SECURE_HSTS_SECONDS','SECURE_HSTS_INCLUDE_SUBDOMAINS','SECURE_SSL_REDIRECT',"
        "'SESSION_COOKIE_SECURE','CSRF_COOKIE_SECURE','SESSION_COOKIE_HTTPONLY',"
        "'SECURE_PROXY_SSL_HEADER','X_FRAME_OPTIONS')}"
        " | {'csp': s.CONTENT_SECURITY_POLICY['DIRECTIVES']}))"
    )
    result = subprocess.run(  # noqa: S603 -- fixed arguments
        [sys.executable, "-c", f"import django;django.setup();{code}"],
        cwd=REPO,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    import json

    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["csp"]["upgrade-insecure-requests"] is True
    assert values["csp"]["script-src"] == ["'self'"]
