"""Drills on the search index of a running site: deleted, corrupted, a rebuild killed
with SIGKILL mid-write, and a rebuild while votes and searches arrive.

What the visitor sees: search keeps answering (never a 500, never a loop of them),
and `update_index` brings the results back; no vote is lost meanwhile.
"""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.reliability.conftest import livesite

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ARTICLE_RE = re.compile(r'name="article" value="(\d+)"')


def index_dir(site) -> Path:
    return site.data_dir / "search-index" / "wagtailcore_page"


def search(site, q="password"):
    return httpx.get(site.url("/api/v1/search"), params={"q": q}, timeout=30)


def assert_answers_with_results(site):
    response = search(site)
    assert response.status_code == 200
    assert [hit["title"] for hit in response.json()["results"]] == [
        "Reset your password"
    ]


def test_a_deleted_index_answers_empty_not_500_until_rebuilt(site):
    assert_answers_with_results(site)

    shutil.rmtree(site.data_dir / "search-index")
    answers = [search(site) for _ in range(6)]  # reaches both workers
    page = httpx.get(site.url("/en/search/"), params={"q": "password"})

    assert [r.status_code for r in answers] == [200] * 6
    assert all(r.json()["count"] == 0 for r in answers)
    assert page.status_code == 200
    site.manage("update_index")
    assert_answers_with_results(site)


def test_a_corrupted_index_answers_empty_not_500_until_rebuilt(site):
    assert_answers_with_results(site)
    live = (index_dir(site) / "CURRENT").read_text().strip()

    for path in (index_dir(site) / live).iterdir():
        path.write_bytes(b"\x00garbage" * 64)
    answers = [search(site) for _ in range(6)]

    assert [r.status_code for r in answers] == [200] * 6
    site.manage("update_index")
    assert_answers_with_results(site)


def test_update_index_killed_mid_write_leaves_the_live_index_answering(site):
    before = (index_dir(site) / "CURRENT").read_text().strip()
    building = index_dir(site) / "BUILDING"
    killed_while_building = False
    for _attempt in range(5):
        process = subprocess.Popen(  # noqa: S603
            [livesite.PYTHON, str(livesite.REPO / "manage.py"), "update_index"],
            cwd=livesite.REPO,
            env=site.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if building.exists():
                os.kill(process.pid, signal.SIGKILL)
                killed_while_building = True
                break
            time.sleep(0.002)
        process.wait(timeout=30)
        if killed_while_building:
            break
    assert killed_while_building, "update_index never caught while writing"

    # The generation that was live is still the live one, and it answers.
    assert (index_dir(site) / "CURRENT").read_text().strip() == before
    assert_answers_with_results(site)
    # The next rebuild is not blocked by the killed one's leftovers.
    site.manage("update_index")
    assert (index_dir(site) / "CURRENT").read_text().strip() != before
    assert_answers_with_results(site)


def _vote(site, article_url: str) -> tuple[int, str]:
    with httpx.Client(base_url=site.url(), timeout=60) as client:
        page = client.get(article_url)
        response = client.post(
            "/feedback/vote/",
            data={
                "csrfmiddlewaretoken": CSRF_RE.search(page.text).group(1),
                "article": ARTICLE_RE.search(page.text).group(1),
                "helpful": "yes",
            },
        )
        return response.status_code, client.cookies["kb_visitor"]


def test_rebuilds_while_votes_and_searches_arrive(site):
    article_url = search(site).json()["results"][0]["url"]
    rebuilds = " && ".join([f"{livesite.PYTHON} manage.py update_index"] * 2)
    log = site.data_dir / "rebuilds.log"
    rebuild = subprocess.Popen(  # noqa: S602
        rebuilds,
        shell=True,
        cwd=livesite.REPO,
        env=site.env(),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    search_answers, vote_answers = [], []
    with ThreadPoolExecutor(max_workers=3) as pool:
        # Rounds of two searches and a vote, each round once the last one is answered.
        while rebuild.poll() is None:
            searches = [pool.submit(search, site, q) for q in ("password", "refund")]
            vote = pool.submit(_vote, site, article_url)
            search_answers += [f.result() for f in searches]
            vote_answers.append(vote.result())
    assert rebuild.wait() == 0, log.read_text()

    assert len(vote_answers) >= 2
    assert {r.status_code for r in search_answers} == {200}
    assert all(r.json()["count"] >= 1 for r in search_answers)
    assert {status for status, _ in vote_answers} == {302}
    visitors = [visitor for _, visitor in vote_answers]
    with sqlite3.connect(site.data_dir / "db.sqlite3") as db:
        stored = dict(
            db.execute(
                "SELECT visitor_id, count(*) FROM feedback_vote "  # noqa: S608
                f"WHERE visitor_id IN ({','.join('?' * len(visitors))}) "
                "GROUP BY visitor_id",
                visitors,
            ).fetchall()
        )
    assert stored == dict.fromkeys(visitors, 1)
