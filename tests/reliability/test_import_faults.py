"""Drill: `import_content` killed with SIGKILL halfway through its articles.

The import is one transaction: after the kill the database holds none of it (and
search shows none of it); run again, it imports all of it, once.
"""

import os
import pty
import re
import signal
import sqlite3
import subprocess
import time

import httpx
import pytest

from tests.reliability.conftest import content_write, livesite, site_make

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

ARTICLE_COUNT = 40
PROGRESS_RE = re.compile(rb"(\d+)/(\d+)")


def articles(count: int) -> dict:
    return {
        f"topic-{n:03d}": (
            f"Topic {n} explained",
            f"All about topic number {n}.",
            f"Step one for topic {n}. Then **save**.",
        )
        for n in range(count)
    }


def article_rows(database) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM articles_articlepage").fetchone()[0]


def import_killed_halfway(site, content) -> int:
    """Runs import_content and SIGKILLs it once its progress bar passes half way.

    The progress bar only draws on a terminal, so stderr is a pseudo-terminal.
    Returns how many articles it had written (uncommitted) when killed.
    """
    leader, follower = pty.openpty()
    process = subprocess.Popen(  # noqa: S603
        [livesite.PYTHON, str(livesite.REPO / "manage.py"), "import_content", content],
        cwd=livesite.REPO,
        env=site.env(),
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    seen, done = b"", 0
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break  # the process ended
            seen = (seen + chunk)[-200:]
            progress = PROGRESS_RE.findall(seen)
            if progress:
                done, total = (int(n) for n in progress[-1])
                if done >= total // 2:
                    os.kill(process.pid, signal.SIGKILL)
                    break
    finally:
        process.wait(timeout=60)
        os.close(leader)
    assert process.returncode == -signal.SIGKILL, "the import ended before the kill"
    return done


def test_import_killed_halfway_stores_nothing_and_a_rerun_stores_all(
    empty_database, tmp_path
):
    site = site_make(tmp_path / "data", empty_database, workers=2)
    content = str(content_write(tmp_path / "content", articles(ARTICLE_COUNT)))
    database = site.data_dir / "db.sqlite3"

    written = import_killed_halfway(site, content)

    assert written >= ARTICLE_COUNT // 2
    assert article_rows(database) == 0
    with site:
        answer = httpx.get(site.url("/api/v1/search"), params={"q": "topic"})
        assert answer.status_code == 200
        assert answer.json()["results"] == []

        site.manage("import_content", content)
        assert article_rows(database) == ARTICLE_COUNT
        site.manage("import_content", content)  # idempotent: nothing doubled
        assert article_rows(database) == ARTICLE_COUNT
        answer = httpx.get(site.url("/api/v1/search"), params={"q": "topic 7"})
        assert answer.status_code == 200
        assert answer.json()["results"][0]["title"] == "Topic 7 explained"
