"""API key authentication: `Authorization: Bearer <key>` (keys live in feedback)."""

from __future__ import annotations

from rest_framework import authentication, exceptions, permissions

from feedback.services import api_key_authenticate


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
