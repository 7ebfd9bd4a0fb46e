"""API key authentication: `Authorization: Bearer <key>` (keys live in feedback)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from rest_framework import authentication, exceptions, permissions
from rest_framework.authentication import CSRFCheck

from feedback.models import ApiKey, ApiKeyScope
from feedback.services import api_key_authenticate
from feedback.visitor import journey_id_ensure, journey_id_from_request
from kb_site.api.errors import ApiError


def request_origin_own(request) -> str:
    """The help center's own origin as this request reached it (scheme://host[:port])."""
    return f"{request.scheme}://{request.get_host()}".lower()


def widget_origin_allowed(*, key: ApiKey, origin: str, request) -> bool:
    """May a page on `origin` use this widget key?

    Allowed: the key's own allowed_origins, the site-wide KB_WIDGET_ORIGINS, and the
    help center itself (its /widget-demo/ page).
    """
    origin = origin.strip().rstrip("/").lower()
    return (
        origin in (key.allowed_origins or ())
        or origin in settings.KB_WIDGET_ORIGINS
        or origin == request_origin_own(request)
    )


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Resolves a bearer key to an ApiKey (request.auth); a bad key is a 401."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw_key = header.partition(" ")
        if keyword != self.keyword or not raw_key.strip():
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <key>'.")
        key = api_key_authenticate(raw_key=raw_key.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        # A widget key is public (it sits in a page's script tag), so it only counts
        # from pages on its allowed origins. Browsers always send Origin on POST and
        # cross-origin requests; a server-side caller could forge it anyway.
        origin = request.headers.get("Origin")
        if (
            key.scope == ApiKeyScope.WIDGET
            and origin
            and not widget_origin_allowed(key=key, origin=origin, request=request)
        ):
            raise ApiError(
                f"This widget key may not be used from {origin[:100]}.",
                code="origin_not_allowed",
                status_code=403,
            )
        return (None, key)

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when no key was sent.
        return self.keyword


class HasApiKeyScope(permissions.BasePermission):
    """Allows a request whose key has one of the view's `api_key_scopes`."""

    message = "This API key's scope does not allow this operation."

    def has_permission(self, request, view):
        key = request.auth
        if key is None:
            raise exceptions.NotAuthenticated(
                "An API key is required: 'Authorization: Bearer <key>'."
            )
        return key.scope in getattr(view, "api_key_scopes", ())


# --- same-site posts: the help center's own pages (no key; journey cookie + CSRF) ---

SAME_SITE_SCOPE = "site"


@dataclass(frozen=True)
class SameSiteClient:
    """request.auth of a post from the site's own pages: its journey, scope "site"."""

    journey_id: str
    scope: str = SAME_SITE_SCOPE


def _csrf_enforce(request) -> None:
    # As DRF's SessionAuthentication: APIViews are csrf_exempt, so check here.
    check = CSRFCheck(lambda _request: None)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")


class SameSiteAuthentication(authentication.BaseAuthentication):
    """The site's own pages: their cookies and a valid CSRF token, no key.

    Applies to a request without an Authorization header that carries the site's
    CSRF or journey cookie (or a CSRF header); a bad or missing CSRF token is a 403.
    request.auth is a SameSiteClient whose journey is the cookie's (minted, and set
    by the visitor middleware, when missing). A caller with no cookies at all is
    left to the key authentication: 401.
    """

    def authenticate(self, request):
        if authentication.get_authorization_header(request):
            return None
        django_request = request._request
        if not (
            django_request.COOKIES.get(settings.CSRF_COOKIE_NAME)
            or journey_id_from_request(django_request)
            or django_request.META.get(settings.CSRF_HEADER_NAME)
        ):
            return None
        _csrf_enforce(django_request)
        return (None, SameSiteClient(journey_id=journey_id_ensure(django_request)))
