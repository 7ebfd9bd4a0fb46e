"""The OpenAPI description of /api/v1/ (drf-spectacular): the error shape every
operation can answer with, the bearer-key security scheme, and the schema class
that adds both to every operation, including ones added later."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from kb_site.api.auth import ApiKeyAuthentication


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    message = serializers.CharField(help_text="What went wrong, for a developer.")
    field = serializers.CharField(
        allow_null=True, help_text="The parameter or body field at fault, if any."
    )
    details = serializers.JSONField(
        required=False, help_text="More about the error, when there is more to say."
    )


class ErrorSerializer(serializers.Serializer):
    """{"error": {"code", "message", "field"}}: every error of the API."""

    error = ErrorDetailSerializer()


_ERROR_DESCRIPTIONS = {
    400: "Invalid parameters or body.",
    401: "Missing, invalid or revoked API key.",
    403: "The API key's scope (or the calling page's origin) does not allow this.",
    404: "No such resource (or not visible to this caller).",
    429: "Too many requests: retry after `Retry-After` seconds.",
    503: "Temporarily unavailable (the database or a forwarding target); nothing "
    "was stored: retry later.",
}


def error_response(status: int, description: str | None = None) -> OpenApiResponse:
    """An OpenAPI response with the API's error body."""
    return OpenApiResponse(
        ErrorSerializer, description=description or _ERROR_DESCRIPTIONS[status]
    )


def _uses_api_key(view) -> bool:
    return any(
        issubclass(cls, ApiKeyAuthentication)
        for cls in getattr(view, "authentication_classes", ())
    )


class KbAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error responses each operation can give:
    400 (any input), 401/403 (operations that take an API key), 404 (paths with
    parameters), 429 (throttling), 503 (outages) and a view's own
    `api_error_statuses`, all with the one error body."""

    def get_serializer_name(self, serializer, direction):
        # Views nest their InputSerializer/OutputSerializer: name components after
        # the view ("ArticleSearchApiOutput"), so two views' "Output" never collide.
        return type(serializer).__qualname__.replace(".", "")

    def get_request_serializer(self):
        # Thin APIViews declare their body as `InputSerializer` (HackSoft style).
        input_serializer = getattr(self.view, "InputSerializer", None)
        if self.method in ("POST", "PUT", "PATCH") and input_serializer:
            return input_serializer()
        if self.method == "GET":
            return None
        return super().get_request_serializer()

    def get_response_serializers(self):
        output_serializer = getattr(self.view, "OutputSerializer", None)
        if output_serializer:
            return {200: output_serializer()}
        return super().get_response_serializers()

    def get_override_parameters(self):
        # A GET view's `InputSerializer` is its query string.
        parameters = list(super().get_override_parameters())
        input_serializer = getattr(self.view, "InputSerializer", None)
        if (
            self.method == "GET"
            and input_serializer
            and input_serializer not in parameters
        ):
            parameters.insert(0, input_serializer)
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        codes = [400, 429, 503]
        if _uses_api_key(self.view):
            codes += [401, 403]
        if "{" in self.path:
            codes.append(404)
        # A view with its own checks (a webhook signature, say) lists their statuses.
        codes += getattr(self.view, "api_error_statuses", ())
        for status in codes:
            responses.setdefault(
                str(status),
                self._get_response_for_code(
                    error_response(status), str(status), direction=direction
                ),
            )
        return responses


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API key from `manage.py create_api_key` or the admin, sent as "
                "`Authorization: Bearer <key>`; its scope decides what it may do."
            ),
        }


class SameSiteAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "kb_site.api.auth.SameSiteAuthentication"
    name = "SameSite"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "csrftoken",
            "description": (
                "The help center's own pages only: their cookies plus the CSRF token "
                "in the `X-CSRFToken` header, instead of a key."
            ),
        }

    def get_security_requirement(self, auto_schema):
        return {self.name: []}


def public_api_only(endpoints):
    """Schema preprocessing: document /api/v1/ only (not Wagtail's admin API)."""
    return [e for e in endpoints if e[0].startswith("/api/v1/")]


def parameters_as_parsed(result, generator, request, public):
    """Schema postprocessing, saying what the views accept: an optional query
    parameter sent empty (`?limit=`) is read as not given (DRF's form semantics),
    and integer path parameters are database ids, 1 or more."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("type") == "integer":
                    schema["minimum"] = 1
    return result
