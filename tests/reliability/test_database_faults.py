"""Drill: the SQLite database is locked by another connection while visitors write.

A writer that waits out the lock succeeds (SQLite retries for KB_SQLITE_BUSY_TIMEOUT);
one that cannot gets a 503 that says nothing was saved, and nothing half-written is
left behind; the same request sent again afterwards is stored exactly once.
"""

import re
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager

import httpx
import pytest

# django_db: the drills' site starts from a copy of the migrated test database.
pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ARTICLE_RE = re.compile(r'name="article" value="(\d+)"')


@contextmanager
def write_locked(database, *, seconds: float | None = None):
    """Holds SQLite's write lock from another connection (released after `seconds`)."""
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    timer = None
    if seconds is not None:
        timer = threading.Timer(seconds, holder.rollback)
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.join()
        else:
            holder.rollback()
        holder.close()


def rows(database, sql, *params):
    with sqlite3.connect(database) as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def api_key(site):
    return site.create_api_key(name="drill", scope="widget")


@pytest.fixture
def article(site):
    found = httpx.get(site.url("/api/v1/search"), params={"q": "password"}).json()
    return found["results"][0]


def vote_form(site, article):
    """A new visitor opens the article: their cookies and the vote form's fields."""
    page = httpx.get(site.url(article["url"]))
    assert page.status_code == 200
    return dict(page.cookies), {
        "csrfmiddlewaretoken": CSRF_RE.search(page.text).group(1),
        "article": ARTICLE_RE.search(page.text).group(1),
        "helpful": "yes",
    }


def vote_post(site, cookies, form):
    return httpx.post(
        site.url("/feedback/vote/"),
        data=form,
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
    )


def events_post(site, api_key, ids, article):
    return httpx.post(
        site.url("/api/v1/events"),
        json={
            "events": [
                {"id": i, "type": "view", "article_id": article["id"]} for i in ids
            ]
        },
        headers={"Authorization": f"Bearer {api_key}"},
    )


def votes_of(site, visitor):
    return rows(
        site.data_dir / "db.sqlite3",
        "SELECT count(*) FROM feedback_vote WHERE visitor_id = ?",
        visitor,
    )[0][0]


def events_with(site, ids):
    hexes = [uuid.UUID(i).hex for i in ids]
    marks = ",".join("?" * len(hexes))
    return rows(
        site.data_dir / "db.sqlite3",
        f"SELECT count(*) FROM feedback_event WHERE id IN ({marks})",  # noqa: S608
        *hexes,
    )[0][0]


def test_a_brief_lock_is_waited_out_and_the_vote_is_stored(site, article):
    cookies, form = vote_form(site, article)

    with write_locked(site.data_dir / "db.sqlite3", seconds=0.3):
        started = time.monotonic()
        response = vote_post(site, cookies, form)

    assert response.status_code == 302  # back to the article, vote counted
    assert time.monotonic() - started >= 0.25  # it waited for the lock
    assert votes_of(site, cookies["kb_visitor"]) == 1


def test_a_vote_during_a_long_lock_gets_a_clear_503_and_nothing_half_written(
    site, article
):
    cookies, form = vote_form(site, article)

    with write_locked(site.data_dir / "db.sqlite3"):
        response = vote_post(site, cookies, form)

    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "nothing was saved" in response.text
    assert "Traceback" not in response.text
    assert votes_of(site, cookies["kb_visitor"]) == 0

    again = vote_post(site, cookies, form)

    assert again.status_code == 302
    assert votes_of(site, cookies["kb_visitor"]) == 1


def test_events_during_a_long_lock_get_a_json_503_then_are_stored_once(
    site, api_key, article
):
    ids = [str(uuid.uuid4()) for _ in range(3)]

    with write_locked(site.data_dir / "db.sqlite3"):
        response = events_post(site, api_key, ids, article)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert events_with(site, ids) == 0

    first = events_post(site, api_key, ids, article)
    retry = events_post(site, api_key, ids, article)

    assert first.status_code == retry.status_code == 200
    assert first.json() == {"accepted": 3, "duplicates": 0}
    assert retry.json() == {"accepted": 0, "duplicates": 3}
    assert events_with(site, ids) == 3


def test_reading_articles_needs_no_write_lock(site, article):
    with write_locked(site.data_dir / "db.sqlite3"):
        page = httpx.get(site.url(article["url"]))

    assert page.status_code == 200
    assert article["title"] in page.text


def test_a_search_during_a_long_lock_is_a_clear_503_not_a_500(site):
    # The search itself reads, but the request also writes the search log.
    with write_locked(site.data_dir / "db.sqlite3"):
        api = httpx.get(site.url("/api/v1/search"), params={"q": "refund"})
        page = httpx.get(site.url("/en/search/"), params={"q": "refund"})

    assert api.status_code == 503
    assert api.json()["error"]["code"] == "database_unavailable"
    assert page.status_code == 503
    assert "Busy right now" in page.text
    assert httpx.get(site.url("/api/v1/search"), params={"q": "refund"}).json()[
        "results"
    ]
