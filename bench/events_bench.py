"""Events and reports, measured.

    .venv/bin/python bench/events_bench.py                  # both parts
    .venv/bin/python bench/events_bench.py --part ingest    # event ingestion only
    .venv/bin/python bench/events_bench.py --part reports --events 1000000

1. Ingestion: gunicorn over a throwaway KB_DATA_DIR (SQLite in WAL mode, the demo
   content imported; bench/livesite.py) takes `POST /api/v1/events` batches from
   --clients concurrent clients for --seconds. Every event has its own id; some
   batches are sent twice, as a retrying client would. Afterwards the database must
   hold exactly the events that were acknowledged, each once ("nothing lost").
   Target: at least 500 events/s.
2. Reports: on the same data folder, --events raw events (journeys over the last
   --days days, all channels and locales) are bulk-inserted, `rollups_rebuild --all`
   runs, and every report page (and the admin home with its dashboard panel, and the
   stats API) is timed through Django's test Client as a superuser. Today's events
   are computed live on each request, as in production. Target: each at most 2 s.

Prints one JSON document with the figures, the date, the machine and its load.
Everything runs on 127.0.0.1 in a temporary folder, bounded in time and size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from livesite import REPO, LiveSite  # noqa: E402

BATCH = 100  # the API's maximum per request


def machine() -> dict:
    load = os.getloadavg()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "load_average_1_5_15": [round(x, 2) for x in load],
    }


# --- part 1: ingestion ----------------------------------------------------------


def _event_batch(rng: random.Random, article_ids: list[int], n: int) -> list[dict]:
    events = []
    journey = uuid.uuid4().hex
    search_id = uuid.uuid4().hex
    for i in range(n):
        if i % 5 == 0:
            journey, search_id = uuid.uuid4().hex, uuid.uuid4().hex
            events.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "search",
                    "journey_id": journey,
                    "search_id": search_id,
                    "query": rng.choice(["refund", "reset password", "shipping"]),
                    "result_count": rng.randint(0, 5),
                    "locale": "en",
                }
            )
            continue
        kind = rng.choice(["click", "view", "resolved", "escalated"])
        event = {"id": str(uuid.uuid4()), "type": kind, "journey_id": journey}
        if kind in ("click", "view"):
            event.update(search_id=search_id, article_id=rng.choice(article_ids))
        if kind == "click":
            event["rank"] = rng.randint(1, 5)
        events.append(event)
    return events


def ingest(site: LiveSite, *, clients: int, seconds: float) -> dict:
    key = site.create_api_key("events bench", "bot")
    article_ids = site.query(
        "import json\nfrom articles.models import ArticlePage\n"
        "print(json.dumps(list(ArticlePage.objects.live().public()"
        ".filter(audience='public').values_list('pk', flat=True))))"
    )
    acknowledged: set[str] = set()
    lock = threading.Lock()
    stats = {"batches": 0, "retries": 0, "errors": 0, "latencies": []}
    deadline = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=site.url(), headers=headers, timeout=30) as http:
            while time.monotonic() < deadline:
                batch = _event_batch(rng, article_ids, BATCH)
                sends = 2 if rng.random() < 0.1 else 1  # a retrying client
                for _ in range(sends):
                    started = time.monotonic()
                    try:
                        response = http.post("/api/v1/events", json={"events": batch})
                    except httpx.HTTPError:
                        with lock:
                            stats["errors"] += 1
                        continue
                    with lock:
                        stats["latencies"].append(time.monotonic() - started)
                        if response.status_code == 200:
                            stats["batches"] += 1
                            stats["retries"] += sends - 1
                            acknowledged.update(e["id"] for e in batch)
                        else:
                            stats["errors"] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started
    stored = site.query(
        "import json\nfrom feedback.models import Event\n"
        "ids = Event.objects.values_list('id', flat=True)\n"
        "print(json.dumps([str(i) for i in ids]))"
    )
    stored_set = set(stored)
    latencies = sorted(stats["latencies"])
    return {
        "clients": clients,
        "batch_size": BATCH,
        "seconds": round(elapsed, 1),
        "events_acknowledged": len(acknowledged),
        "events_stored": len(stored),
        "events_per_second": round(len(acknowledged) / elapsed, 1),
        "lost": len(acknowledged - stored_set),
        "duplicates_stored": len(stored) - len(stored_set),
        "unacknowledged_stored": len(stored_set - acknowledged),
        "resent_batches": stats["retries"],
        "errors": stats["errors"],
        "batch_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1)
        if latencies
        else None,
        "batch_p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1)
        if latencies
        else None,
    }


# --- part 2: reports with many events (runs inside the site's Django) -----------


def _events_insert(target: int, days: int) -> float:
    """Inserts about `target` events of journeys spread over `days` days (raw SQL
    executemany on SQLite: the ORM's bulk_create would take most of the run)."""
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from articles.models import ArticlePage
    from feedback.models import Event

    rng = random.Random(42)
    by_locale: dict[str, list[int]] = {}
    for pk, code in ArticlePage.objects.live().values_list(
        "pk", "locale__language_code"
    ):
        by_locale.setdefault(code, []).append(pk)
    locales = sorted(by_locale)
    words = "refund password shipping invoice domain theme payment tax coupon login"
    words = words.split() + ["export", "order", "stock", "email", "plan"]
    queries = [" ".join(rng.sample(words, rng.choice([1, 2, 3]))) for _ in range(3000)]
    channels = ["web"] * 5 + ["widget"] * 3 + ["bot"] * 2 + ["api"]
    columns = [
        "id",
        "type",
        "journey_id",
        "channel",
        "locale",
        "at",
        "search_id",
        "article_id",
        "rank",
        "reason",
        "query",
        "result_count",
        "result_ids",
        "extra",
        "created",
    ]
    sql = (
        f"INSERT INTO {Event._meta.db_table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    adapt = connection.ops.adapt_datetimefield_value
    now = timezone.now()
    created = adapt(now)
    started = time.monotonic()
    made = 0
    batch: list[tuple] = []

    def add(kind, journey, channel, locale, at, search_id="", article=None, **more):
        batch.append(
            (
                uuid.uuid4().hex,
                kind,
                journey,
                channel,
                locale,
                adapt(min(at, now)),
                search_id,
                article,
                more.get("rank"),
                None,
                more.get("query", ""),
                more.get("result_count"),
                "[]",
                "{}",
                created,
            )
        )

    def flush():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, batch)
        batch.clear()

    while made < target:
        at = now - timedelta(seconds=rng.randint(0, days * 86400))
        locale = rng.choice(locales) if rng.random() < 0.3 else "en"
        pool = by_locale.get(locale) or by_locale["en"]
        journey, channel = uuid.uuid4().hex, rng.choice(channels)
        query = queries[min(int(rng.paretovariate(1.2)) - 1, len(queries) - 1)]
        search_id = uuid.uuid4().hex
        no_result = rng.random() < 0.08
        add(
            "search",
            journey,
            channel,
            locale,
            at,
            search_id,
            query=query,
            result_count=0 if no_result else rng.randint(1, 10),
        )
        made += 1
        roll = rng.random()
        if not no_result and roll > 0.25:
            article = rng.choice(pool)
            at += timedelta(seconds=rng.randint(2, 60))
            add("click", journey, channel, locale, at, search_id, article, rank=1)
            add("view", journey, channel, locale, at, search_id, article)
            made += 2
            if roll > 0.85:
                resolved_at = at + timedelta(minutes=1)
                add("resolved", journey, channel, locale, resolved_at, "", article)
                made += 1
            elif roll > 0.7:
                ticket_at = at + timedelta(minutes=rng.randint(1, 600))
                add("ticket", journey, channel, locale, ticket_at)
                made += 1
        if len(batch) >= 20000:
            flush()
    if batch:
        flush()
    return time.monotonic() - started


def _reports_inside(target: int, days: int) -> dict:
    """Runs inside the site's Django: insert, rebuild, then time every report page."""
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone

    from feedback.models import Event
    from feedback.rollups import events_first_day, rollups_rebuild
    from feedback.services import api_key_create

    insert_s = _events_insert(target, days)
    started = time.monotonic()
    rows = rollups_rebuild(day_from=events_first_day(), day_to=timezone.localdate())
    rebuild_s = time.monotonic() - started

    User.objects.filter(username="bench").delete()
    user = User.objects.create_superuser("bench", "bench@example.com", "pw")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    key = api_key_create(name="bench reports", scope="reports")[1]
    since = (timezone.localdate() - timedelta(days=days)).isoformat()
    base = "/admin/kb-reports"
    pages = {
        "admin home (dashboard panel)": "/admin/",
        "deflection over time (daily, 30 days)": f"{base}/deflection/",
        "deflection over time (weekly, all days)": (
            f"{base}/deflection/?interval=week&date_from={since}"
        ),
        "top searches": f"{base}/top-searches/",
        "searches with no results": f"{base}/content-gaps/",
        "searches with no click": f"{base}/unclicked-searches/",
        "articles by deflections": f"{base}/article-deflections/",
        "articles before a ticket": f"{base}/articles-before-ticket/",
        "least helpful articles": f"{base}/least-helpful/",
        "stale articles": f"{base}/stale-articles/",
        "outdated translations": f"{base}/outdated-translations/",
        "top searches CSV (all days)": (
            f"{base}/top-searches/?export=csv&date_from={since}"
        ),
    }

    def timed(url: str, **headers) -> tuple[float, object]:
        t = time.monotonic()
        response = client.get(url, **headers)
        if response.streaming:
            b"".join(response.streaming_content)
        return time.monotonic() - t, response

    # The first request of a process imports and compiles templates: not a page cost.
    timed("/admin/")
    timed(f"{base}/top-searches/")
    timings = {}
    for name, url in pages.items():
        # "cold": the live figures (today, yesterday) computed from raw events, as
        # the first request after KB_ROLLUP_LIVE_CACHE_SECONDS does; "warm": cached.
        cache.clear()
        cold, response = timed(url)
        assert response.status_code == 200, (name, response.status_code)
        warm, _response = timed(url)
        timings[name] = {"cold": round(cold, 3), "warm": round(warm, 3)}
    cache.clear()
    took, api = timed(
        f"/api/v1/stats/deflection?from={since}", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    timings["stats API (all days)"] = {"cold": round(took, 3)}
    assert api.status_code == 200, api.content
    return {
        "events": Event.objects.count(),
        "insert_seconds": round(insert_s, 1),
        "rollups_rebuild_seconds": round(rebuild_s, 1),
        "rollup_rows": rows,
        "page_seconds": timings,
        "stats_api": api.json(),
    }


def reports(site: LiveSite, *, events: int, days: int) -> dict:
    """Runs the reports part in a child process with the site's settings."""
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--part",
            "_inside",
            "--events",
            str(events),
            "--days",
            str(days),
        ],
        cwd=REPO,
        env=site.env(),
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if result.returncode != 0:
        raise RuntimeError(f"reports part failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--part", choices=["ingest", "reports", "all", "_inside"], default="all"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--keep", action="store_true", help="Keep the data folder.")
    args = parser.parse_args(argv)
    if args.part == "_inside":
        import django

        sys.path.insert(0, str(REPO))
        django.setup()
        print(json.dumps(_reports_inside(args.events, args.days)))
        return 0

    result = {"bench": "events", **machine()}
    folder = Path(tempfile.mkdtemp(prefix="kb-events-bench-"))
    site = LiveSite(folder, workers=args.workers, threads=args.threads)
    try:
        site.prepare()
        if args.part in ("ingest", "all"):
            with site:
                result["ingest"] = ingest(
                    site, clients=args.clients, seconds=args.seconds
                )
            ingest_ok = (
                result["ingest"]["events_per_second"] >= 500
                and result["ingest"]["lost"] == 0
                and result["ingest"]["duplicates_stored"] == 0
            )
            result["ingest"]["target_met"] = ingest_ok
        if args.part in ("reports", "all"):
            result["reports"] = reports(site, events=args.events, days=args.days)
            worst = max(
                max(t.values()) for t in result["reports"]["page_seconds"].values()
            )
            result["reports"]["slowest_page_seconds"] = worst
            result["reports"]["target_met"] = worst <= 2.0
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        site.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
        else:
            result["data_dir"] = str(folder)
    print(json.dumps(result, indent=2))
    ok = all(
        part.get("target_met", True)
        for part in (result.get("ingest", {}), result.get("reports", {}))
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
