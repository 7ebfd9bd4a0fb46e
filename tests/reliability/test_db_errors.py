"""Which database errors become the 503 "busy, nothing saved", and what it says."""

import json

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from kb_site.db_errors import database_unavailable, server_error, unavailable_response


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("database is locked"),
        OperationalError("unable to open database file"),
        OperationalError(
            'connection failed: connection to server at "127.0.0.1", port 5432 '
            "failed: Connection refused"
        ),
        OperationalError("server closed the connection unexpectedly"),
        OperationalError("FATAL: the database system is starting up"),
        InterfaceError("connection already closed"),
    ],
)
def test_busy_or_unreachable_databases_are_outages(error):
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("no such table: feedback_vote"),
        ValueError("database is locked"),
        None,
    ],
)
def test_other_errors_are_not_hidden_as_outages(error):
    assert not database_unavailable(error)


def test_api_clients_get_the_json_error_shape():
    response = unavailable_response(RequestFactory().post("/api/v1/events"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    body = json.loads(response.content)["error"]
    assert body["code"] == "database_unavailable"
    assert "nothing was saved" in body["message"]


def test_visitors_get_a_page_that_needs_no_database():
    response = unavailable_response(RequestFactory().post("/feedback/vote/"))

    assert response.status_code == 503
    assert b"Busy right now" in response.content
    assert b"nothing was saved" in response.content


def test_the_500_handler_answers_503_for_an_outage_outside_a_view():
    request = RequestFactory().get("/en/")
    try:
        raise OperationalError("database is locked")
    except OperationalError:
        response = server_error(request)

    assert response.status_code == 503


def test_the_500_handler_leaves_other_errors_a_500():
    request = RequestFactory().get("/en/")
    try:
        raise OperationalError("no such table: feedback_vote")
    except OperationalError:
        response = server_error(request)

    assert response.status_code == 500
