"""API throttles: per key (rate by scope) and per IP for requests without a secret key.

Rates come from settings at each request (KB_API_RATE_PER_KEY, KB_API_RATE_PER_IP);
counters live in the "throttle" cache, file-based under KB_DATA_DIR so all workers of
one machine share them. Like DRF's own throttles the count is read-modify-write, so
bursts racing across workers may pass a few requests over the limit. An exceeded
limit is a 429 with Retry-After and the API's JSON error body.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from feedback.models import ApiKey, ApiKeyScope
from feedback.ratelimit import ip_hash

CACHE_ALIAS = "throttle"


class _SettingsRateThrottle(SimpleRateThrottle):
    """A SimpleRateThrottle whose rate is chosen per request from settings."""

    def __init__(self):
        # DRF reads one fixed rate here; ours depends on the request (rate_for).
        self.rate = None

    @property
    def cache(self):
        return caches[CACHE_ALIAS]

    def rate_for(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view):
        self.rate = self.rate_for(request)
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class ApiKeyRateThrottle(_SettingsRateThrottle):
    """Requests per API key, at the rate of its scope (KB_API_RATE_PER_KEY)."""

    def rate_for(self, request) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return settings.KB_API_RATE_PER_KEY.get(request.auth.scope)

    def get_cache_key(self, request, view):
        return f"kb:throttle:key:{request.auth.pk}"


class IpRateThrottle(_SettingsRateThrottle):
    """Requests per client IP (KB_API_RATE_PER_IP) without a secret key.

    Widget keys are public (they sit in a page's script tag), so their requests
    count per IP too.
    """

    def rate_for(self, request) -> str | None:
        key = request.auth
        if isinstance(key, ApiKey) and key.scope != ApiKeyScope.WIDGET:
            return None
        return settings.KB_API_RATE_PER_IP

    def get_cache_key(self, request, view):
        # Only a salted hash of the address, even in the cache.
        return f"kb:throttle:ip:{ip_hash(ip=self.get_ident(request) or '')}"
