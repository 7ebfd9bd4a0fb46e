"""The OpenAPI schema, its docs page, and contract tests of the API against it.

The contract test runs schemathesis on every operation of the generated schema,
through the site's WSGI application (same database transaction as the test), on
the demo help center, with keys of the right scope: no response may be a server
error, and every status code, content type and body must be the documented one.
"""

import re
import shutil

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from articles.services import article_import_apply, article_import_validate
from feedback.services import api_key_create

# Bounded so that the whole API is exercised in a few minutes on a small machine.
MAX_EXAMPLES = 25
POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def schema_doc(client, db):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_documents_every_public_operation(schema_doc):
    operations = {
        (method.upper(), path)
        for path, item in schema_doc["paths"].items()
        for method in item
    }
    assert {
        ("GET", "/api/v1/search"),
        ("GET", "/api/v1/suggest"),
        ("GET", "/api/v1/answer"),
        ("GET", "/api/v1/articles"),
        ("GET", "/api/v1/articles/{article_id}"),
        ("GET", "/api/v1/articles/{locale}/{slug}"),
        ("POST", "/api/v1/articles/{article_id}/votes"),
        ("POST", "/api/v1/events"),
        ("GET", "/api/v1/agent/search"),
        ("POST", "/api/v1/agent/links"),
    } <= operations
    # Wagtail's own admin API is not part of the public API.
    assert not any(path.startswith("/admin") for _method, path in operations)


def test_every_operation_documents_the_error_body(schema_doc):
    error = {"$ref": "#/components/schemas/Error"}
    for path, item in schema_doc["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert responses["400"]["content"]["application/json"]["schema"] == error
            if "{" in path:
                assert "404" in responses, (method, path)
            if operation.get("security") and {"ApiKey": []} in operation["security"]:
                assert {"401", "403"} <= set(responses), (method, path)
    detail = schema_doc["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message", "field"}


def test_docs_page_loads_swagger_ui_from_this_site_without_inline_script(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in src for src in sources)
    assert all(src.startswith("/") and not src.startswith("//") for src in sources)
    assert "<script>" not in html and "<style>" not in html
    assert "cdn.jsdelivr.net" not in html
    script = client.get("/api/v1/docs/", {"script": ""})
    assert script.status_code == 200
    assert "/api/v1/schema/" in script.content.decode()


# A slice of the demo help center, so the contract test stays a few minutes long:
# every locale's home and these categories, plus one internal article.
DEMO_CATEGORIES = {"account-and-sign-in", "billing-and-refunds"}
INTERNAL_ARTICLE = """---
title: Refund override for agents
summary: Agents only.
audience: internal
---
A manager may approve a refund after the 30-day window.
"""


@pytest.fixture
def demo_site(db, demo_content, settings):
    """Part of the demo help center, indexed, one API key per scope, and the
    contact form and helpdesk webhook configured (else they rightly answer 503)."""
    settings.KB_CONTACT_WEBHOOK_URL = ""
    settings.KB_CONTACT_EMAIL_TO = ["support@example.com"]
    settings.KB_HELPDESK_WEBHOOK_SECRET = "contract-test-secret"
    for locale in demo_content.iterdir():
        for folder in locale.iterdir():
            if folder.is_dir() and folder.name not in DEMO_CATEGORIES:
                shutil.rmtree(folder)
    (demo_content / "en/billing-and-refunds/refund-override.md").write_text(
        INTERNAL_ARTICLE
    )
    content = article_import_validate(root=demo_content)
    # Links into the categories left out are reported, and render as plain text.
    assert all(
        "does not exist" in e.message or "broken link" in e.message
        for e in content.errors
    )
    content.errors = []
    article_import_apply(content=content, root=demo_content)
    return {
        scope: api_key_create(name=f"{scope} key", scope=scope)[1]
        for scope in ("widget", "bot", "agent", "helpdesk", "reports")
    }


def _key_for(path: str) -> str:
    if path.startswith("/api/v1/agent/"):
        return "agent"
    if path.startswith("/api/v1/stats/"):
        return "reports"
    if path.startswith("/api/v1/tickets"):
        return "helpdesk"
    if path.startswith("/api/v1/contact"):
        return "widget"
    return "bot"


def _mutated_locations(case) -> set[str]:
    """Where a negative case was made invalid: "query", "header", "body"…"""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    return {
        getattr(m.parameter_location, "value", str(m.parameter_location))
        for m in getattr(data, "mutations", None) or ()
    }


def _hypothesis_test(operation, mode, checks, headers):
    """A Hypothesis test of one operation in one generation mode. A negative case
    that breaks the headers is sent as generated (no valid key added: a 401 is
    the right answer); every other case carries a key of the operation's scope."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        send = headers
        if mode.is_negative and "header" in _mutated_locations(case):
            send = None
        case.call_and_validate(headers=send, checks=checks)

    return check


@pytest.fixture
def connections_kept_open():
    """Django's WSGI handler closes the database connection after each request (the
    request_finished signal), which on PostgreSQL would end the test's transaction
    halfway; Django's test Client disconnects the same handler."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.slow
def test_every_operation_honours_its_schema(demo_site, connections_kept_open):
    """No 500s, and every response is one the schema documents, for generated
    valid requests (positive) and invalid ones, which must be refused (negative)."""
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", WSGIHandler()
    )
    failures = []
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = {"Authorization": f"Bearer {demo_site[_key_for(operation.path)]}"}
        for mode, checks in (
            (schemathesis.GenerationMode.POSITIVE, POSITIVE_CHECKS),
            (
                schemathesis.GenerationMode.NEGATIVE,
                [not_a_server_error, negative_data_rejection],
            ),
        ):
            try:
                _hypothesis_test(operation, mode, checks, headers)()
            except Unsatisfiable:
                # Nothing in the operation can be made invalid (only free-text
                # path parameters): there is no negative case to send.
                assert mode.is_negative, operation.label
            except (Exception, BaseExceptionGroup) as exc:  # collect, don't stop
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
        tested.append(operation.label)
    assert len(tested) >= 10
    assert not failures, "\n\n".join(failures)
