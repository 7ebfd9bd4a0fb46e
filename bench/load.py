"""Load without loss: mixed traffic against the real server, then a database audit.

    .venv/bin/python bench/load.py                       # SQLite (WAL)
    .venv/bin/python bench/load.py --database postgres   # throwaway PostgreSQL cluster

Starts gunicorn (2 to 4 workers) on 127.0.0.1 over a throwaway KB_DATA_DIR with the
demo content imported and indexed (bench/livesite.py), then drives it with an
open-loop, bounded asyncio client (httpx): 70% searches (/api/v1/search, varied
queries and locales, Zipf-distributed), 15% article reads, 10% event batches (POST
/api/v1/events with a widget key; some batches are re-sent, as a client retrying
would), 5% votes (the no-JavaScript vote form: GET the article for its cookies and
CSRF token, then POST), each from one of many distinct visitors.

1. Steps: the offered rate rises step by step (--step-seconds each) until the p95
   latency reaches --p95-ms or a request fails; the highest rate held is kept.
2. Hold: that rate for --duration seconds (60 by default); when not even the first
   step held, the first step's rate, so the audit always covers a full run.
3. Audit: every event and vote that got a 2xx is stored exactly once, none twice;
   nothing answered 5xx.

Latency is measured from the moment a request was due, so a saturated server (or
client) shows up as latency rather than as silently skipped requests. Exits non-zero
when the audit fails or any 5xx was seen. Traffic goes to 127.0.0.1 only; every loop
is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from livesite import REPO, LiveSite  # noqa: E402

MIX = (("search", 70), ("read", 15), ("event", 10), ("vote", 5))
DEFAULT_RATES = "2,5,10,15,20,30,40,60,80,100,130,160,200"
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ARTICLE_RE = re.compile(r'name="article" value="(\d+)"')
TYPOS = {"password": "pasword", "refund": "refnd", "invoice": "invioce"}


@dataclass
class Outcome:
    kind: str
    status: int  # 0: no answer (connection error, timeout)
    latency: float  # seconds, from when the request was due
    phase: str
    detail: dict = field(default_factory=dict)


@dataclass
class Corpus:
    articles: list[dict]  # {"id", "url", "locale", "title"}
    queries: dict[str, list[str]]  # by locale


def corpus_load(site: LiveSite) -> Corpus:
    articles = site.query(
        "import json\n"
        "from articles.models import ArticlePage\n"
        "rows = [{'id': p.pk, 'url': p.url, 'locale': p.locale.language_code,"
        " 'title': p.title} for p in ArticlePage.objects.live().public()"
        ".filter(audience='public').select_related('locale')]\n"
        "print(json.dumps(rows))"
    )
    queries: dict[str, list[str]] = {}
    for article in articles:
        words = [w for w in re.findall(r"\w+", article["title"]) if len(w) > 2]
        found = queries.setdefault(article["locale"], [])
        found.append(article["title"])
        found.extend(words)
        if len(words) >= 2:
            found.append(" ".join(words[:2]))
    queries["en"] += [*TYPOS.values(), "how do i get my money back", "zzzz qqqq"]
    queries = {locale: sorted(set(found)) for locale, found in queries.items()}
    return Corpus(articles=articles, queries=queries)


class Traffic:
    """One visitor population and the requests they make."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        corpus: Corpus,
        api_key: str,
        visitors: int,
        seed: int,
    ):
        self.client = client
        self.corpus = corpus
        self.api_key = api_key
        self.random = random.Random(seed)
        self.visitors = [
            {"journey": uuid.uuid4().hex[:24], "ip": f"10.{i // 250}.{i % 250}.1"}
            for i in range(visitors)
        ]
        self.sent_batches: list[list[dict]] = []
        # Help-center queries follow a Zipf law: a few are asked again and again.
        self.query_weights = {
            locale: [1 / rank for rank in range(1, len(queries) + 1)]
            for locale, queries in corpus.queries.items()
        }
        for queries in corpus.queries.values():
            self.random.shuffle(queries)

    def pick(self) -> str:
        roll = self.random.uniform(0, 100)
        for kind, share in MIX:
            roll -= share
            if roll < 0:
                return kind
        return MIX[0][0]

    async def run(self, kind: str) -> tuple[int, dict]:
        return await getattr(self, f"_{kind}")()

    async def _search(self) -> tuple[int, dict]:
        locale = self.random.choice(list(self.corpus.queries))
        if self.random.random() < 0.6:
            locale = "en"
        visitor = self.random.choice(self.visitors)
        query = self.random.choices(
            self.corpus.queries[locale], self.query_weights[locale]
        )[0]
        response = await self.client.get(
            "/api/v1/search",
            params={
                "q": query,
                "locale": locale,
                "journey_id": visitor["journey"],
                "channel": "widget",
            },
        )
        detail = {}
        if response.status_code != 200:
            detail = {"q": query, "locale": locale, "body": response.text[:300]}
        return response.status_code, detail

    async def _read(self) -> tuple[int, dict]:
        article = self.random.choice(self.corpus.articles)
        response = await self.client.get(article["url"])
        return response.status_code, {}

    async def _event(self) -> tuple[int, dict]:
        if self.sent_batches and self.random.random() < 0.1:
            # A client that never saw the answer sends the same batch again.
            events, resent = self.random.choice(self.sent_batches), True
        else:
            visitor = self.random.choice(self.visitors)
            events = []
            for rank in range(1, self.random.randint(1, 3) + 1):
                article = self.random.choice(self.corpus.articles)
                events.append(
                    {
                        "id": str(uuid.uuid4()),
                        "type": self.random.choice(["view", "click"]),
                        "journey_id": visitor["journey"],
                        "article_id": article["id"],
                        "rank": rank,
                    }
                )
            resent = False
        response = await self.client.post(
            "/api/v1/events",
            json={"events": events},
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        if 200 <= response.status_code < 300 and not resent:
            self.sent_batches.append(events)
        body = _json(response)
        return response.status_code, {
            "ids": [e["id"] for e in events],
            "resent": resent,
            "accepted": body.get("accepted"),
        }

    async def _vote(self) -> tuple[int, dict]:
        # A new visitor: the article page gives the cookies and the CSRF token.
        article = self.random.choice(self.corpus.articles)
        page = await self.client.get(article["url"])
        if page.status_code != 200:
            return page.status_code, {"step": "page"}
        token, article_id = CSRF_RE.search(page.text), ARTICLE_RE.search(page.text)
        if not token or not article_id:
            return 0, {"step": "form", "error": "no vote form on the article page"}
        cookies = dict(page.cookies)
        response = await self.client.post(
            "/feedback/vote/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "article": article_id.group(1),
                "helpful": self.random.choice(["yes", "no"]),
            },
            headers={
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                "X-KB-Fragment": "1",
            },
        )
        return response.status_code, {
            "visitor": cookies.get("kb_visitor"),
            "article": int(article_id.group(1)),
        }


def _json(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def drive(
    traffic: Traffic, *, rate: float, seconds: float, concurrency: int, phase: str
) -> list[Outcome]:
    """Offers `rate` requests/s for `seconds`, open loop, `concurrency` at most open."""
    slots = asyncio.Semaphore(concurrency)
    outcomes: list[Outcome] = []
    total = int(rate * seconds)
    start = time.monotonic() + 0.05

    async def one(due: float, kind: str):
        async with slots:
            try:
                status, detail = await traffic.run(kind)
            except httpx.HTTPError as exc:
                status, detail = 0, {"error": type(exc).__name__}
        outcomes.append(Outcome(kind, status, time.monotonic() - due, phase, detail))

    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, traffic.pick())))
    await asyncio.gather(*tasks)
    return outcomes


def summary(outcomes: list[Outcome], seconds: float) -> dict:
    latencies = sorted(o.latency for o in outcomes)
    statuses = Counter(o.status for o in outcomes)

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    by_kind = {}
    for kind, _share in MIX:
        mine = sorted(o.latency for o in outcomes if o.kind == kind)
        if mine:
            by_kind[kind] = {
                "n": len(mine),
                "p50_ms": round(mine[len(mine) // 2] * 1000, 1),
                "p95_ms": round(
                    mine[min(len(mine) - 1, int(0.95 * len(mine)))] * 1000, 1
                ),
            }
    return {
        "requests": len(outcomes),
        "achieved_rps": round(len(outcomes) / seconds, 1) if seconds else 0,
        "p50_ms": round(pct(0.50), 1),
        "p95_ms": round(pct(0.95), 1),
        "p99_ms": round(pct(0.99), 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": sum(v for k, v in statuses.items() if k == 0 or k >= 500),
        "by_kind": by_kind,
    }


AUDIT = """
import json
from feedback.models import Event, Vote
data = json.load(open({path!r}))
event_ids = data["event_ids_ok"]
stored = {{
    str(i) for i in Event.objects.filter(pk__in=event_ids).values_list("pk", flat=True)
}}
failed_only = [i for i in data["event_ids_failed"] if i not in set(event_ids)]
stored_failed = Event.objects.filter(pk__in=failed_only).count()
pairs = data["votes_ok"]
counts = {{}}
for visitor, article in pairs:
    votes = Vote.objects.filter(visitor_id=visitor, article_id=article)
    counts[(visitor, article)] = votes.count()
print(json.dumps({{
    "events_ok": len(set(event_ids)),
    "events_stored": len(stored),
    "events_missing": len(set(event_ids) - stored),
    "events_total_in_db": Event.objects.exclude(type__in=["search", "vote"]).count(),
    "events_failed_but_stored": stored_failed,
    "votes_ok": len(pairs),
    "votes_missing": sum(1 for n in counts.values() if n == 0),
    "votes_doubled": sum(1 for n in counts.values() if n > 1),
    "votes_in_db": Vote.objects.count(),
    "vote_events_in_db": Event.objects.filter(type="vote").count(),
}}))
"""


COUNTS = """
import json
from feedback.models import Event, Vote
print(json.dumps({"votes": Vote.objects.count(),
                  "vote_events": Event.objects.filter(type="vote").count()}))
"""


def audit(site: LiveSite, outcomes: list[Outcome], before: dict) -> dict:
    """Checks every 2xx event and vote against the database (`before`: its counts)."""
    ok = [o for o in outcomes if 200 <= o.status < 300]
    data = {
        "event_ids_ok": sorted(
            {i for o in ok if o.kind == "event" for i in o.detail["ids"]}
        ),
        "event_ids_failed": sorted(
            {
                i
                for o in outcomes
                if o.kind == "event" and not 200 <= o.status < 300 and "ids" in o.detail
                for i in o.detail["ids"]
            }
        ),
        "votes_ok": [
            [o.detail["visitor"], o.detail["article"]]
            for o in ok
            if o.kind == "vote" and o.detail.get("visitor")
        ],
    }
    path = site.data_dir / "audit.json"
    path.write_text(json.dumps(data))
    result = site.query(AUDIT.format(path=str(path)))
    result["votes_without_cookie"] = sum(
        1 for o in ok if o.kind == "vote" and not o.detail.get("visitor")
    )
    # Each 2xx vote (each by a new visitor) adds one Vote and one `vote` event.
    result["votes_added"] = result["votes_in_db"] - before["votes"]
    result["vote_events_added"] = result["vote_events_in_db"] - before["vote_events"]
    result["passed"] = (
        result["events_missing"] == 0
        and result["votes_missing"] == 0
        and result["votes_doubled"] == 0
        and result["votes_added"] == len(data["votes_ok"])
        and result["vote_events_added"] == len(data["votes_ok"])
        and result["votes_without_cookie"] == 0
    )
    return result


async def benchmark(args, site: LiveSite, corpus: Corpus, api_key: str) -> dict:
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    all_outcomes: list[Outcome] = []
    steps = []
    # Each request is its own visitor: the client keeps no cookies between requests.
    no_cookies = http.cookiejar.CookieJar(
        policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
    )
    async with httpx.AsyncClient(
        base_url=site.url(),
        limits=limits,
        timeout=30,
        follow_redirects=False,
        cookies=no_cookies,
    ) as client:
        traffic = Traffic(client, corpus, api_key, args.visitors, args.seed)
        # Warm every worker (imports, templates, each locale's searcher and analyser,
        # database connections) before measuring: 100 requests of the same mix.
        all_outcomes += await drive(
            traffic, rate=10, seconds=10, concurrency=8, phase="warm-up"
        )
        held = None
        for rate in [float(r) for r in args.rates.split(",")]:
            outcomes = await drive(
                traffic,
                rate=rate,
                seconds=args.step_seconds,
                concurrency=args.concurrency,
                phase=f"step {rate:g}/s",
            )
            all_outcomes += outcomes
            result = {"offered_rps": rate, **summary(outcomes, args.step_seconds)}
            steps.append(result)
            print(
                f"step {rate:6g}/s: achieved {result['achieved_rps']:6g}/s "
                f"p50 {result['p50_ms']:7.1f} ms  p95 {result['p95_ms']:7.1f} ms  "
                f"statuses {result['statuses']}",
                flush=True,
            )
            if result["p95_ms"] >= args.p95_ms or result["errors"]:
                break
            held = rate
        rate = held or steps[0]["offered_rps"]
        outcomes = await drive(
            traffic,
            rate=rate,
            seconds=args.duration,
            concurrency=args.concurrency,
            phase="hold",
        )
        all_outcomes += outcomes
        hold = {"offered_rps": rate, **summary(outcomes, args.duration)}
        hold["p95_target_met"] = hold["p95_ms"] < args.p95_ms
        print(
            f"hold {rate:6g}/s for {args.duration:g}s: p50 {hold['p50_ms']} ms  "
            f"p95 {hold['p95_ms']} ms  statuses {hold['statuses']}",
            flush=True,
        )
    return {"steps": steps, "highest_rate_held": held, "hold": hold}, all_outcomes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=3, choices=[2, 3, 4])
    parser.add_argument("--duration", type=float, default=60, help="hold, seconds")
    parser.add_argument("--step-seconds", type=float, default=10)
    parser.add_argument("--rates", default=DEFAULT_RATES, help="offered rates to try")
    parser.add_argument("--p95-ms", type=float, default=200)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--visitors", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--data-dir", type=Path, help="default: a temp dir")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--skip-prepare",
        action="store_true",
        help="reuse --data-dir as it is (already migrated, imported and indexed)",
    )
    args = parser.parse_args(argv)

    if args.database == "postgres" and not os.environ.get("DATABASE_URL"):
        # Re-run inside a throwaway cluster (durable, as a real server would be).
        env = {**os.environ, "KB_PG_DURABLE": "1"}
        command = [str(REPO / ".ci" / "with-postgres.sh"), sys.executable, __file__]
        return subprocess.call(command + (argv or sys.argv[1:]), env=env)

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kb-load-"))
    site = LiveSite(
        data_dir,
        workers=args.workers,
        database_url=os.environ.get("DATABASE_URL")
        if args.database == "postgres"
        else None,
    )
    started = time.monotonic()
    print(f"preparing {args.database} site in {data_dir} …", flush=True)
    if not args.skip_prepare:
        site.prepare()
    api_key = site.create_api_key()
    corpus = corpus_load(site)
    before = site.query(COUNTS)
    print(
        f"ready in {time.monotonic() - started:.0f}s: {len(corpus.articles)} articles",
        flush=True,
    )
    with site:
        results, outcomes = asyncio.run(benchmark(args, site, corpus, api_key))
    check = audit(site, outcomes, before)
    five_xx = sum(1 for o in outcomes if o.status >= 500)
    no_answer = sum(1 for o in outcomes if o.status == 0)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "load_average_at_end": os.getloadavg(),
        "database": args.database,
        "workers": args.workers,
        **results,
        "requests_total": len(outcomes),
        "five_xx": five_xx,
        "no_answer": no_answer,
        "audit": check,
    }
    unexpected = [
        {"kind": o.kind, "status": o.status, **o.detail}
        for o in outcomes
        if not 200 <= o.status < 300 and o.kind in ("search", "read")
    ]
    report["unexpected_answers"] = unexpected[:20]
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.data_dir is None:
        shutil.rmtree(data_dir, ignore_errors=True)
    ok = check["passed"] and five_xx == 0 and no_answer == 0
    print("PASS" if ok else "FAIL: see audit / five_xx above", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
