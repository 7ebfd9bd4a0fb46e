"""Search speed: our Whoosh backend beside Wagtail's database backend, in one run.

    .venv/bin/python bench/search_bench.py --sizes 1000,10000

For each corpus size it builds a synthetic help center (English articles of 300 to
800 words in 40 categories, with titles, summaries and tags) in a throwaway
KB_DATA_DIR, then, once per backend and in a fresh process (so peak memory belongs
to that backend), measures:

- a full rebuild with `manage.py update_index` (pages per second) and the index size;
- search latency p50/p95 of the bare backend (`ArticlePage...live().search(q)[:10]`);
- search latency through the HTTP API (`/api/v1/search`, Django's test Client, warm,
  snippets included), for distinct queries and for a Zipf-distributed query log, as
  real help-center traffic repeats its top questions: the first stretch of that log
  after the server starts ("Zipf", where each query's first request misses the result
  cache) and the stretch after it ("Zipf next", steady state: only queries not seen in
  the first stretch miss);
- suggest-as-you-type latency through `/api/v1/suggest` (every prefix of typed words);
- the bot's answer through `/api/v1/answer` (best article, passage, confidence), on the
  distinct queries;
- peak memory (`ru_maxrss`) of the process.

The corpus is built once per size (page creation is not measured) and copied for
each backend. Nothing outside the temporary folder is touched.
"""

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CATEGORIES = 40
WORDS_MIN, WORDS_MAX = 300, 800

# A help center's vocabulary: product nouns, actions, and filler English, so that
# stemming and stop words do their real work.
NOUNS = """account password email address invoice payment refund order subscription plan
card bank transfer receipt profile setting notification device phone app browser cookie
session login team member role permission admin workspace project file folder upload
download export import report dashboard integration calendar contact customer ticket
message chat widget language region currency tax discount coupon trial license key
token webhook api domain certificate backup storage quota limit error code update
version release shipping delivery package tracking return exchange warranty product
cart checkout wallet balance statement history security factor verification identity
document signature template theme editor page link image video comment share group
channel mobile desktop tablet printer scanner network connection server sync
offline""".split()
VERBS = """reset change update cancel renew delete create add remove invite export
import connect disconnect enable disable verify confirm recover restore share
download upload
print track return refund pay transfer sign merge archive move rename schedule migrate
configure install uninstall upgrade downgrade activate deactivate report contact
troubleshoot fix block unblock approve reject edit view find search filter
sort""".split()
FILLER = """the a an to of and or in on for with your you can this that it is are be
will if when then from by at as not all any each more most some other into about
after before while during because so only also just than too very how what which who
where why there their they them we our us may might must should would could have has
had do does did done make makes made take takes took see sees saw use uses used get
gets got need needs needed want wants wanted try tries tried keep keeps kept open opens
opened close closes closed select selects selected choose chooses chosen click clicks
clicked tap taps tapped check checks checked follow follows followed step steps
screen menu button option options field fields list lists new old first last next
previous same different right left top bottom again still already usually often
sometimes never always""".split()
KINDS = ["guide", "faq", "troubleshooting"]


# --- The parent process -------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="e.g. 1000,10000,50000")
    parser.add_argument("--backends", default="whoosh,database")
    parser.add_argument("--queries", type=int, default=300, help="distinct queries")
    parser.add_argument("--zipf", type=int, default=2000, help="Zipf log length")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--child", choices=["build", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    sizes = [int(size) for size in args.sizes.split(",") if size]
    backends = [name for name in args.backends.split(",") if name]
    workdir = Path(tempfile.mkdtemp(prefix="kb-search-bench-"))
    print(f"# work folder {workdir}", file=sys.stderr)
    rows = []
    try:
        for size in sizes:
            build = workdir / f"{size}" / "build"
            started = time.perf_counter()
            spawn("build", build, "whoosh", size, args)
            print(
                f"# built {size} articles in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            for backend in backends:
                folder = workdir / f"{size}" / backend
                folder.mkdir(parents=True)
                shutil.copy(build / "db.sqlite3", folder / "db.sqlite3")
                rows.append(spawn("measure", folder, backend, size, args))
                print(f"# {json.dumps(rows[-1])}", file=sys.stderr)
            shutil.rmtree(workdir / f"{size}", ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


def spawn(step: str, data_dir: Path, backend: str, size: int, args) -> dict:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KB_DATA_DIR": str(data_dir),
        "KB_SEARCH_BACKEND": backend,
        "DJANGO_SETTINGS_MODULE": "kb_site.settings.dev",
        "DEBUG": "0",
        "KB_LOG_LEVEL": "WARNING",
        # The API's per-IP throttle would stop one client sending thousands of
        # requests a minute; it is not what is measured here.
        "KB_API_RATE_PER_IP": "",
    }
    command = [sys.executable, __file__, "--child", step, "--size", str(size)]
    command += ["--queries", str(args.queries), "--zipf", str(args.zipf)]
    command += ["--seed", str(args.seed)]
    done = subprocess.run(
        command, env=env, cwd=REPO, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{step} of {size} articles on {backend} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


COLUMNS = [
    ("size", "articles", "{}"),
    ("backend", "backend", "{}"),
    ("rebuild_docs_per_s", "rebuild docs/s", "{:.0f}"),
    ("rebuild_docs_per_cpu_s", "rebuild docs/CPU s", "{:.0f}"),
    ("index_mb", "index MB", "{:.1f}"),
    ("bare_p50", "bare p50", "{:.1f}"),
    ("bare_p95", "bare p95", "{:.1f}"),
    ("api_p50", "API p50", "{:.1f}"),
    ("api_p95", "API p95", "{:.1f}"),
    ("api_cpu_p95", "API CPU p95", "{:.1f}"),
    ("zipf_p50", "Zipf p50", "{:.1f}"),
    ("zipf_p95", "Zipf p95", "{:.1f}"),
    ("zipf_cpu_p95", "Zipf CPU p95", "{:.1f}"),
    ("zipf_next_p50", "Zipf next p50", "{:.1f}"),
    ("zipf_next_p95", "Zipf next p95", "{:.1f}"),
    ("suggest_p50", "suggest p50", "{:.1f}"),
    ("suggest_p95", "suggest p95", "{:.1f}"),
    ("suggest_cpu_p95", "suggest CPU p95", "{:.1f}"),
    ("answer_p50", "answer p50", "{:.1f}"),
    ("answer_p95", "answer p95", "{:.1f}"),
    ("answer_cpu_p95", "answer CPU p95", "{:.1f}"),
    ("peak_mb", "peak MB", "{:.0f}"),
]


def print_table(rows):
    print(
        "Latencies in ms (wall clock unless CPU); API = /api/v1/search with snippets,"
        " warm; bare = the backend alone."
    )
    print("| " + " | ".join(title for _, title, _ in COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for row in rows:
        cells = [fmt.format(row[key]) for key, _, fmt in COLUMNS]
        print("| " + " | ".join(cells) + " |")


# --- The child processes ------------------------------------------------------------


def child(args):
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    if args.child == "build":
        call_command("migrate", verbosity=0, interactive=False)
        corpus_build(args.size, random.Random(args.seed))
        print(json.dumps({"size": args.size}))
    else:
        print(json.dumps(measure(args)))
    return 0


def _words(rng, count: int, topic: list[str]) -> str:
    words = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.12:
            words.append(rng.choice(topic))
        elif roll < 0.35:
            words.append(NOUNS[min(int(rng.paretovariate(1.2)) - 1, len(NOUNS) - 1)])
        elif roll < 0.45:
            words.append(rng.choice(VERBS))
        else:
            words.append(rng.choice(FILLER))
    return " ".join(words)


def _body(rng, topic) -> str:
    remaining = rng.randint(WORDS_MIN, WORDS_MAX)
    paragraphs = []
    while remaining > 0:
        length = min(remaining, rng.randint(40, 90))
        remaining -= length
        sentence = _words(rng, length, topic).capitalize() + "."
        if rng.random() < 0.3:
            paragraphs.append(f"## {rng.choice(VERBS).capitalize()} {topic[1]}")
        paragraphs.append(sentence)
    return "\n\n".join(paragraphs)


def article_topic(rng) -> list[str]:
    return [rng.choice(VERBS), rng.choice(NOUNS), rng.choice(NOUNS)]


def _tree_step(number: int, alphabet: str, steplen: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, len(alphabet))
        digits = alphabet[digit] + digits
    return digits.rjust(steplen, alphabet[0])


def corpus_build(size: int, rng: random.Random):
    """Creates the help center without indexing (the rebuild is what is measured).

    Articles are inserted in bulk, with their tree paths computed here, because
    saving 10k pages one by one (treebeard, Wagtail's save) takes longer than the
    whole measurement on this machine."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from taggit.models import Tag
    from wagtail.models import Locale, Page

    from articles.markdown import markdown_render
    from articles.models import ArticlePage, ArticlePageTag, CategoryPage
    from articles.services import help_center_ensure, locales_sync

    locales_sync()
    home = help_center_ensure(locale=Locale.objects.get(language_code="en"))
    categories = []
    for number in range(CATEGORIES):
        noun = NOUNS[number % len(NOUNS)]
        category = CategoryPage(
            title=f"{noun.capitalize()} help {number}",
            slug=f"{noun}-{number}",
            description=f"Everything about {noun}.",
            locale=home.locale,
            live=True,
        )
        home.add_child(instance=category)
        categories.append(CategoryPage.objects.get(pk=category.pk))
    tags = {noun: Tag.objects.get_or_create(name=noun, slug=noun)[0] for noun in NOUNS}
    content_type = ContentType.objects.get_for_model(ArticlePage)
    children = [0] * CATEGORIES
    for start in range(0, size, 500):
        pages, details, taggings = [], [], []
        for number in range(start, min(size, start + 500)):
            topic = article_topic(rng)
            verb, noun, other = topic
            parent = categories[number % CATEGORIES]
            children[number % CATEGORIES] += 1
            slug = f"article-{number}"
            title = f"How to {verb} your {noun} {other} ({number})"
            pages.append(
                Page(
                    title=title,
                    draft_title=title,
                    slug=slug,
                    content_type=content_type,
                    locale=home.locale,
                    live=True,
                    path=parent.path
                    + _tree_step(
                        children[number % CATEGORIES], Page.alphabet, Page.steplen
                    ),
                    depth=parent.depth + 1,
                    numchild=0,
                    url_path=f"{parent.url_path}{slug}/",
                )
            )
            details.append(
                {
                    "summary": f"{verb.capitalize()} the {noun} of your {other}: "
                    + _words(rng, 12, topic),
                    "body": _body(rng, topic),
                    "kind": KINDS[number % 3],
                    "tags": {noun, other},
                }
            )
        with transaction.atomic():
            Page.objects.bulk_create(pages, batch_size=100)
            articles = []
            for page, detail in zip(pages, details, strict=True):
                article = ArticlePage(
                    page_ptr_id=page.pk,
                    summary=detail["summary"],
                    body=detail["body"],
                    body_text=markdown_render(detail["body"]).text,
                    kind=detail["kind"],
                )
                articles.append(article)
                taggings += [
                    ArticlePageTag(content_object_id=page.pk, tag=tags[name])
                    for name in detail["tags"]
                ]
            fields = ArticlePage._meta.local_concrete_fields
            for offset in range(0, len(articles), 50):
                ArticlePage._base_manager._insert(
                    articles[offset : offset + 50], fields=fields, raw=True
                )
            ArticlePageTag.objects.bulk_create(taggings, batch_size=200)
    for category, count in zip(categories, children, strict=True):
        Page.objects.filter(pk=category.pk).update(numchild=count)


def _queries(rng: random.Random, count: int) -> list[str]:
    """Distinct customer-like queries: 1 to 4 words, mostly nouns and verbs."""
    seen, queries = set(), []
    while len(queries) < count:
        shape = rng.random()
        if shape < 0.2:
            words = [rng.choice(NOUNS)]
        elif shape < 0.6:
            words = [rng.choice(VERBS), rng.choice(NOUNS)]
        elif shape < 0.85:
            words = [rng.choice(VERBS), "my", rng.choice(NOUNS), rng.choice(NOUNS)]
        else:
            words = ["how", "do", "i", rng.choice(VERBS), rng.choice(NOUNS)]
        query = " ".join(words)
        if rng.random() < 0.08:  # typos happen
            position = rng.randrange(len(query))
            query = query[:position] + query[position + 1 :]
        if query not in seen and query.strip():
            seen.add(query)
            queries.append(query)
    return queries


def _zipf_log(rng: random.Random, pool: list[str], length: int, s=1.1) -> list[str]:
    weights = [1 / (rank**s) for rank in range(1, len(pool) + 1)]
    return rng.choices(pool, weights=weights, k=length)


def _prefixes(rng: random.Random, count: int) -> list[str]:
    """What suggest-as-you-type sees: each prefix of one or two typed words."""
    prefixes: list[str] = []
    while len(prefixes) < count:
        typed = f"{rng.choice(VERBS)} {rng.choice(NOUNS)}"
        prefixes += [typed[:end] for end in range(2, len(typed) + 1)]
    return prefixes[:count]


def _timed(function, items) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each call (CPU time shows what a call costs
    when other processes compete for the cores)."""
    wall, cpu = [], []
    for item in items:
        started, started_cpu = time.perf_counter(), time.thread_time()
        function(item)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    return wall, cpu


def _percentiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return statistics.median(times), cuts[94]


def _index_bytes(backend_name: str) -> int:
    from django.conf import settings
    from django.db import connection

    if backend_name == "whoosh":
        path = Path(settings.WAGTAILSEARCH_BACKENDS["default"]["PATH"])
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    with connection.cursor() as cursor:
        try:
            cursor.execute(
                "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'wagtailsearch_%'"
            )
            return int(cursor.fetchone()[0] or 0)
        except Exception:  # noqa: BLE001 -- SQLite without dbstat
            return 0


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (a rebuild writes
    part of the index in forked processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(args) -> dict:
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from wagtail.models import Locale, Page

    from articles.models import ArticlePage

    backend_name = os.environ["KB_SEARCH_BACKEND"]
    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(args.seed + 1)
    indexed = Page.objects.count()

    started, started_cpu = time.perf_counter(), _cpu_s()
    call_command("update_index", verbosity=0)
    rebuild_s = time.perf_counter() - started
    rebuild_cpu_s = _cpu_s() - started_cpu

    english = Locale.objects.get(language_code="en")
    live = ArticlePage.objects.live().public().filter(locale=english)
    queries = _queries(rng, args.queries * 2 + 200)
    warmup, distinct = queries[: args.queries], queries[args.queries : args.queries * 2]
    pool = queries[args.queries * 2 :]
    # Two stretches of the same traffic: the first after the server starts (each
    # query's first request misses the result cache), then the next one (steady state:
    # only queries not asked before miss).
    zipf_log = _zipf_log(rng, pool, args.zipf)
    zipf_next = _zipf_log(rng, pool, args.zipf)
    prefixes = _prefixes(rng, args.queries)

    def bare(query):
        return list(live.search(query)[:10])

    client = Client()

    def api(query):
        response = client.get("/api/v1/search", {"q": query, "locale": "en"})
        assert response.status_code == 200, response.content[:300]

    def suggest(prefix):
        response = client.get("/api/v1/suggest", {"q": prefix, "locale": "en"})
        assert response.status_code == 200, response.content[:300]

    for query in warmup[:50]:
        bare(query)
    bare_times = _timed(bare, distinct)
    # Warm the process (code paths, searcher, rendering) on queries not measured.
    for query in warmup:
        api(query)
    api_times = _timed(api, distinct)
    zipf_times = _timed(api, zipf_log)
    zipf_next_times = _timed(api, zipf_next)
    suggest_times = _timed(suggest, prefixes)

    def answer(query):
        response = client.get("/api/v1/answer", {"q": query, "locale": "en"})
        assert response.status_code == 200, response.content[:300]

    answer_times = _timed(answer, distinct)

    row = {
        "size": args.size,
        "backend": backend_name,
        "indexed_pages": indexed,
        "rebuild_s": round(rebuild_s, 2),
        "rebuild_docs_per_s": indexed / rebuild_s,
        "rebuild_docs_per_cpu_s": indexed / rebuild_cpu_s,
        "index_mb": _index_bytes(backend_name) / 1e6,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "distinct_queries": len(distinct),
        "zipf_requests": len(zipf_log),
        "zipf_unique": len(set(zipf_log)),
        "zipf_next_new": len(set(zipf_next) - set(zipf_log)),
        "suggest_requests": len(prefixes),
    }
    for name, (wall, cpu) in [
        ("bare", bare_times),
        ("api", api_times),
        ("zipf", zipf_times),
        ("zipf_next", zipf_next_times),
        ("suggest", suggest_times),
        ("answer", answer_times),
    ]:
        p50, p95 = _percentiles(wall)
        row[f"{name}_p50"], row[f"{name}_p95"] = round(p50, 2), round(p95, 2)
        p50, p95 = _percentiles(cpu)
        row[f"{name}_cpu_p50"], row[f"{name}_cpu_p95"] = round(p50, 2), round(p95, 2)
    return row


if __name__ == "__main__":
    sys.exit(main())
