"""A database that is busy or unreachable answers 503 with a clear message, never a 500.

SQLite already retries a locked database for its busy timeout (settings: WAL,
IMMEDIATE transactions, busy_timeout); PostgreSQL errors out at once when the server
is gone. Either way the failed write was rolled back by its atomic block, so the
visitor is told that nothing was saved and to try again: a JSON error under /api/,
a plain page elsewhere. The page is rendered without touching the database.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.views.defaults import server_error as django_server_error

from kb_site.api.errors import error_body

logger = logging.getLogger("kb.db")

RETRY_AFTER_SECONDS = 5
# OperationalErrors that mean "busy or unreachable"; others (a missing table) are bugs.
_UNAVAILABLE_MESSAGES = (
    "database is locked",
    "database table is locked",
    "unable to open database",
    "disk i/o error",
    "connection",
    "could not connect",
    "server closed",
    "terminating",
    "the database system is",
    "too many clients",
    "timeout",
    "timed out",
)
MESSAGE = _(
    "The help center is busy right now and nothing was saved. "
    "Please try again in a few seconds."
)


def database_unavailable(exc: BaseException | None) -> bool:
    """True for errors of a busy, locked or unreachable database."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc).lower()
    return any(message in text for message in _UNAVAILABLE_MESSAGES)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 a visitor or API client sees while the database is unavailable."""
    if request.path.startswith("/api/"):
        response = JsonResponse(
            error_body(code="database_unavailable", message=MESSAGE), status=503
        )
    else:
        response = HttpResponse(
            render_to_string("503.html", {"message": MESSAGE}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a view's busy/unreachable-database error into a 503 (see module doc)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        logger.warning(
            "Database unavailable during %s %s: %s",
            request.method,
            request.path,
            exception,
        )
        return unavailable_response(request)


def server_error(request, *args, **kwargs):
    """handler500: a 503 for database outages raised outside views, else Django's."""
    if database_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return django_server_error(request, *args, **kwargs)
