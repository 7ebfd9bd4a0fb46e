"""API throttles: per key by scope, per IP without a secret key; 429 + Retry-After."""

import uuid

import pytest
from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache

from feedback.ratelimit import ip_hash
from feedback.services import api_key_create
from tests import factories


@pytest.fixture(autouse=True)
def _fresh_counters():
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


@pytest.fixture
def article(category):
    return factories.article(category, title="Reset your password", slug="reset")


def search(client, ip="10.0.0.1", **headers):
    return client.get(
        "/api/v1/search", {"q": "password", "locale": "en"}, REMOTE_ADDR=ip, **headers
    )


def events(client, key, article, ip="10.0.0.1"):
    body = {
        "events": [{"id": str(uuid.uuid4()), "type": "view", "article_id": article.pk}]
    }
    return client.post(
        "/api/v1/events",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        REMOTE_ADDR=ip,
    )


def test_public_reads_are_limited_per_ip_with_429_json_and_retry_after(
    client, article, settings
):
    settings.KB_API_RATE_PER_IP = "3/min"
    assert [search(client).status_code for _ in range(3)] == [200, 200, 200]
    response = search(client)
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "throttled" and "seconds" in error["message"]
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another address has its own allowance.
    assert search(client, ip="10.0.0.2").status_code == 200


def test_forged_forwarded_for_headers_do_not_reset_the_ip_count(
    client, article, settings
):
    settings.KB_API_RATE_PER_IP = "2/min"
    for n in range(2):
        assert search(client, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}").status_code == 200
    assert search(client, HTTP_X_FORWARDED_FOR="1.2.3.99").status_code == 429


def test_secret_keys_are_limited_per_key_at_their_scope_rate(client, article, settings):
    settings.KB_API_RATE_PER_IP = "1/min"
    settings.KB_API_RATE_PER_KEY = {**settings.KB_API_RATE_PER_KEY, "bot": "2/min"}
    bot_key = api_key_create(name="Bot", scope="bot")[1]
    other_bot = api_key_create(name="Other bot", scope="bot")[1]
    agent_key = api_key_create(name="Agent", scope="agent")[1]
    # A secret key does not use up its address's anonymous allowance.
    assert [events(client, bot_key, article).status_code for _ in range(2)] == [
        200,
        200,
    ]
    limited = events(client, bot_key, article)
    assert limited.status_code == 429 and limited["Retry-After"]
    assert limited.json()["error"]["code"] == "throttled"
    assert events(client, other_bot, article).status_code == 200
    assert events(client, agent_key, article).status_code == 200


def test_public_widget_keys_also_count_per_ip(client, article, settings):
    settings.KB_API_RATE_PER_IP = "2/min"
    widget_key = api_key_create(name="Widget", scope="widget")[1]
    assert events(client, widget_key, article).status_code == 200
    assert events(client, widget_key, article).status_code == 200
    assert events(client, widget_key, article).status_code == 429
    assert events(client, widget_key, article, ip="10.0.0.9").status_code == 200


def test_bad_keys_are_401_before_any_throttling(client, article, settings):
    settings.KB_API_RATE_PER_IP = "1/min"
    response = events(client, "kb_nope_nope", article)
    assert response.status_code == 401


def test_counters_are_shared_through_files_across_workers(
    client, article, settings, tmp_path
):
    """Every worker opening the same folder sees the same count."""
    folder = tmp_path / "throttle"
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "kb_site.throttle_cache.ThrottleFileCache",
            "LOCATION": folder,
        },
    }
    settings.KB_API_RATE_PER_IP = "2/min"
    search(client)
    search(client)
    other_worker = FileBasedCache(str(folder), {})
    history = other_worker.get(f"kb:throttle:ip:{ip_hash(ip='10.0.0.1')}")
    assert len(history) == 2
    assert search(client).status_code == 429
