"""One JSON error shape for the whole API: {"error": {"code", "message", "field"}}."""

from __future__ import annotations

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApiError(exceptions.APIException):
    """An error with a stable machine-readable code and, where it applies, the field at fault."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        field: str | None = None,
        status_code: int | None = None,
        details=None,
    ):
        super().__init__(detail=message, code=code)
        self.code = code
        self.field = field
        self.details = details
        if status_code is not None:
            self.status_code = status_code


def error_body(
    *, code: str, message: str, field: str | None = None, details=None
) -> dict:
    error = {"code": code, "message": message, "field": field}
    if details is not None:
        error["details"] = details
    return {"error": error}


def _first_validation_error(detail, prefix: str = ""):
    """The first (field, message) of a DRF ValidationError's nested detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else None
            field, message = _first_validation_error(
                value, f"{prefix}.{name}" if prefix and name else (name or prefix)
            )
            return field, message
    if isinstance(detail, list) and detail:
        return _first_validation_error(detail[0], prefix)
    return (prefix or None), str(detail)


def api_exception_handler(exc, context):
    """DRF's handler, with every error rewritten to the project's JSON shape."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        body = error_body(
            code=exc.code, message=str(exc.detail), field=exc.field, details=exc.details
        )
    elif isinstance(exc, exceptions.ValidationError):
        field, message = _first_validation_error(exc.detail)
        body = error_body(
            code="invalid", message=message, field=field, details=exc.detail
        )
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        body = error_body(code=code, message=str(exc.detail))
    return Response(
        body,
        status=response.status_code,
        headers={
            k: v
            for k, v in response.items()
            if k in ("Retry-After", "WWW-Authenticate", "Allow")
        },
    )
