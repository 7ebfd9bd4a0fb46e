"""The anonymous first-party visitor id: a random cookie, nothing about the person."""

from __future__ import annotations

import re
import secrets

from django.conf import settings

_VALID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def cookie_name() -> str:
    return getattr(settings, "KB_VISITOR_COOKIE", "kb_visitor")


def visitor_id_from_request(request) -> str | None:
    """The visitor id the browser sent, or None when missing or malformed."""
    value = request.COOKIES.get(cookie_name(), "")
    return value if _VALID.match(value) else None


def visitor_id_ensure(request) -> str:
    """The visitor id, minted when missing (the middleware then sets the cookie)."""
    existing = visitor_id_from_request(request) or getattr(
        request, "_kb_new_visitor_id", None
    )
    if existing:
        return existing
    request._kb_new_visitor_id = secrets.token_urlsafe(18)
    return request._kb_new_visitor_id


def journey_cookie_name() -> str:
    return getattr(settings, "KB_JOURNEY_COOKIE", "kb_journey")


def journey_id_from_request(request) -> str | None:
    """The journey id the browser sent, or None when missing or malformed."""
    value = request.COOKIES.get(journey_cookie_name(), "")
    return value if _VALID.match(value) else None


def journey_id_ensure(request) -> str:
    """The request's journey id, minting one (set by the middleware) when missing."""
    existing = journey_id_from_request(request) or getattr(
        request, "_kb_new_journey_id", None
    )
    if existing:
        return existing
    request._kb_new_journey_id = secrets.token_urlsafe(18)
    return request._kb_new_journey_id


def visitor_cookie_middleware(get_response):
    """Sets the visitor cookie on pages that asked for one (the vote form)."""

    def middleware(request):
        response = get_response(request)
        new_id = getattr(request, "_kb_new_visitor_id", None)
        if new_id and not visitor_id_from_request(request):
            response.set_cookie(
                cookie_name(),
                new_id,
                max_age=getattr(settings, "KB_VISITOR_COOKIE_AGE", 365 * 24 * 3600),
                httponly=True,
                samesite="Lax",
                secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
            )
        journey_id = getattr(request, "_kb_new_journey_id", None)
        if journey_id and not journey_id_from_request(request):
            # A journey lasts as long as its attribution window, renewed by nothing.
            response.set_cookie(
                journey_cookie_name(),
                journey_id,
                max_age=settings.KB_ATTRIBUTION_WINDOW_HOURS * 3600,
                httponly=True,
                samesite="Lax",
                secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
            )
        return response

    return middleware
