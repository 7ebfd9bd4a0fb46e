"""Vote rate limits per visitor and per IP, in the cache; IPs only as salted hashes."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 3600


def ip_hash(*, ip: str) -> str:
    """A salted hash of an IP address: enough to count, useless to identify."""
    salt = settings.SECRET_KEY.encode()
    return hmac.new(salt, ip.encode(), hashlib.sha256).hexdigest()[:32]


def _hit(key: str, limit: int) -> bool:
    # add() then incr(): atomic on shared caches, no read-modify-write in Python.
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        count = 1
    return count > limit


def vote_rate_limit_hit(*, visitor_id: str, ip: str) -> bool:
    """Counts one vote attempt; True when the visitor or IP is over its hourly limit."""
    over_visitor = _hit(
        f"kb:vote-rate:v:{visitor_id}", settings.KB_VOTE_RATE_LIMIT_VISITOR
    )
    over_ip = _hit(f"kb:vote-rate:ip:{ip_hash(ip=ip)}", settings.KB_VOTE_RATE_LIMIT_IP)
    return over_visitor or over_ip


def contact_rate_limit_hit(*, visitor_id: str, ip: str) -> bool:
    """Counts one contact request; True when the visitor or IP is over its hour."""
    over_visitor = _hit(
        f"kb:contact-rate:v:{visitor_id}", settings.KB_CONTACT_RATE_LIMIT_VISITOR
    )
    over_ip = _hit(
        f"kb:contact-rate:ip:{ip_hash(ip=ip)}", settings.KB_CONTACT_RATE_LIMIT_IP
    )
    return over_visitor or over_ip
