"""Measures search quality on a benchmark dataset, for our backend and Wagtail's.

    manage.py search_eval DATASET_DIR [--backend whoosh|database|both] [--limit N]
                                      [--answers [--fit]]

The dataset is loaded as articles into a throwaway site: the command runs itself
again in a child process with KB_DATA_DIR set to a new temporary folder (a fresh
SQLite database and search index, no DATABASE_URL), so it never touches your data.
Every query goes through `search.selectors.article_search`, the path of the API.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from search.evaluation import (
    METRICS,
    Dataset,
    dataset_load,
    log_loss,
    logistic_fit,
    run_metrics,
    threshold_table,
)

BACKENDS = {"whoosh": "default", "database": "database"}
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CALIBRATION_BINS = 5
RESULTS = 10
# Environment a child must not inherit: it would point it at the user's data.
_PARENT_ONLY_ENV = ("DATABASE_URL", "KB_SEARCH_BACKEND", "KB_SEARCH_URL")


class Command(BaseCommand):
    help = (
        "Loads a dataset folder (docs.jsonl, queries.jsonl, qrels.tsv) into a "
        "throwaway site and prints MRR@10, success@1, nDCG@10 and recall@10 per "
        "language for the Whoosh backend and Wagtail's database backend."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "dataset", help="A folder with docs.jsonl, queries.jsonl, qrels.tsv."
        )
        parser.add_argument(
            "--backend", choices=["whoosh", "database", "both"], default="both"
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help="Run only the first N judged queries (a quick look).",
        )
        parser.add_argument(
            "--kind",
            choices=["guide", "faq", "troubleshooting"],
            default="guide",
            help='Article kind of documents that carry no "kind" (default guide).',
        )
        parser.add_argument(
            "--answers",
            action="store_true",
            help="Also calibrate the bot answer's confidence (Whoosh): share of right "
            "answers and of hand-offs per threshold.",
        )
        parser.add_argument(
            "--fit",
            action="store_true",
            help="With --answers: fit the confidence weights on this dataset.",
        )
        parser.add_argument(
            "--keep", action="store_true", help="Keep the throwaway folder."
        )
        parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        dataset_dir = Path(options["dataset"]).resolve()
        try:
            dataset = dataset_load(dataset_dir)
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options["worker"]:
            self._work(dataset, options)
        else:
            self._spawn(dataset_dir, options)

    # --- Parent: a throwaway site in a child process ------------------------------

    def _spawn(self, dataset_dir: Path, options):
        folder = Path(tempfile.mkdtemp(prefix="kb-search-eval-"))
        env = {k: v for k, v in os.environ.items() if k not in _PARENT_ONLY_ENV}
        env |= {
            "KB_DATA_DIR": str(folder),
            "DJANGO_SETTINGS_MODULE": "kb_site.settings.dev",
            "DEBUG": "0",
            "KB_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            str(Path(settings.BASE_DIR) / "manage.py"),
            "search_eval",
            str(dataset_dir),
            "--worker",
            "--backend",
            options["backend"],
            "--kind",
            options["kind"],
        ]
        if options["limit"] is not None:
            command += ["--limit", str(options["limit"])]
        command += [f"--{flag}" for flag in ("answers", "fit") if options[flag]]
        try:
            with subprocess.Popen(  # noqa: S603 -- our own manage.py, argument list
                command,
                env=env,
                cwd=settings.BASE_DIR,
                stdout=subprocess.PIPE,
                text=True,
            ) as child:
                for line in child.stdout:
                    self.stdout.write(line, ending="")
                    self.stdout.flush()
            if child.returncode:
                raise CommandError(f"The evaluation failed (exit {child.returncode}).")
        finally:
            if options["keep"]:
                self.stdout.write(f"Throwaway site kept in {folder}")
            else:
                shutil.rmtree(folder, ignore_errors=True)

    # --- Child: load, index, measure ---------------------------------------------

    def _work(self, dataset: Dataset, options):
        from django.test import override_settings

        data_dir = Path(settings.KB_DATA_DIR)
        if "DATABASE_URL" in os.environ or not str(data_dir.name).startswith(
            "kb-search-eval-"
        ):
            raise CommandError(
                "--worker runs only inside a throwaway search_eval site."
            )
        names = (
            ["whoosh", "database"]
            if options["backend"] == "both"
            else [options["backend"]]
        )
        backends = {
            "default": {
                "BACKEND": "search.backends.whoosh",
                "PATH": data_dir / "search-index",
                "AUTO_UPDATE": False,
            },
            "database": {
                "BACKEND": "wagtail.search.backends.database",
                "AUTO_UPDATE": False,
            },
        }
        with override_settings(
            DEBUG=False, WAGTAILSEARCH_BACKENDS=backends, KB_SEARCH_CACHE_SIZE=0
        ):
            call_command("migrate", verbosity=0, interactive=False)
            started = time.perf_counter()
            pages = self._load(dataset, options["kind"])
            self.stdout.write(
                f"Dataset {dataset.name}: {len(dataset.docs)} documents, "
                f"{len(dataset.judged_queries())} judged queries; loaded in "
                f"{time.perf_counter() - started:.1f} s"
            )
            for name in names:
                started = time.perf_counter()
                call_command("update_index", backend_name=BACKENDS[name], verbosity=0)
                self.stdout.write(
                    f"Indexed for {name} in {time.perf_counter() - started:.1f} s"
                )
            queries = dataset.judged_queries()[: options["limit"]]
            tables = {}
            for name in names:
                tables[name] = self._measure(dataset, queries, pages, BACKENDS[name])
                # Each backend's figures as soon as they are known: runs are long.
                self._print_tables(dataset, {name: tables[name]})
            if len(tables) > 1:
                self._print_tables(dataset, tables)
            if options["answers"]:
                self._answers(dataset, queries, pages, fit=options["fit"])

    def _load(self, dataset: Dataset, default_kind: str) -> dict[int, str]:
        """Creates one live article per document; returns page id -> document id."""
        from articles.models import ArticlePage, CategoryPage
        from articles.services import help_center_ensure, locales_sync

        locales = {locale.language_code: locale for locale in locales_sync()}
        unknown = {doc.lang for doc in dataset.docs} - set(locales)
        if unknown:
            raise CommandError(
                f"Documents in languages the site has no locale for: {sorted(unknown)}"
            )
        categories = {}
        pages: dict[int, str] = {}
        for number, doc in enumerate(dataset.docs):
            if doc.lang not in categories:
                home = help_center_ensure(locale=locales[doc.lang])
                category = CategoryPage(
                    title="Dataset", slug="dataset", locale=locales[doc.lang], live=True
                )
                home.add_child(instance=category)
                categories[doc.lang] = category
            title = doc.title.strip() or doc.body.strip()[:80] or f"Document {doc.id}"
            page = ArticlePage(
                title=title[:255],
                slug=f"d{number}",
                locale=locales[doc.lang],
                kind=doc.kind or default_kind,
                body=doc.body,
                live=True,
            )
            categories[doc.lang].add_child(instance=page)
            pages[page.pk] = doc.id
        return pages

    def _locales(self):
        from wagtail.models import Locale

        return {locale.language_code: locale for locale in Locale.objects.all()}

    def _measure(self, dataset, queries, pages, backend: str):
        from search.selectors import SearchQueryError, article_search

        locales = self._locales()
        run, refused, failed = {}, 0, []
        started = time.perf_counter()
        for query in queries:
            try:
                result = article_search(
                    query=query.text,
                    locale=locales[query.lang],
                    limit=RESULTS,
                    fallback=False,
                    backend=backend,
                )
            except SearchQueryError:
                refused += 1  # the API answers these with a 400
                continue
            except Exception as error:  # noqa: BLE001 -- reported, then measured as a miss
                failed.append(f"{query.id}: {type(error).__name__}: {error}")
                continue
            run[query.id] = [pages.get(hit.article.pk) for hit in result.hits]
        elapsed = time.perf_counter() - started
        table = run_metrics(run, Dataset(dataset.name, [], queries, dataset.qrels))
        for row in table.values():
            row["refused"] = refused
            row["failed"] = len(failed)
            row["ms/query"] = 1000 * elapsed / max(1, len(queries))
        for line in failed[:3]:
            self.stderr.write(f"  {backend} failed on {line}")
        return table

    def _print_tables(self, dataset, tables):
        header = ["backend", "lang", "queries", *METRICS, "ms/query"]
        self.stdout.write("")
        self.stdout.write("| " + " | ".join(header) + " |")
        self.stdout.write("|" + "---|" * len(header))
        for name, table in tables.items():
            for lang, row in table.items():
                cells = [name, lang, str(row["n"])]
                cells += [f"{row[m]:.3f}" for m in METRICS]
                cells.append(f"{row['ms/query']:.1f}")
                self.stdout.write("| " + " | ".join(cells) + " |")
        for name, table in tables.items():
            row = next(iter(table.values()), {})
            if row.get("refused") or row.get("failed"):
                self.stdout.write(
                    f"{name}: {row['refused']} queries refused as malformed, "
                    f"{row['failed']} failed (counted as misses)."
                )

    def _answers(self, dataset, queries, pages, *, fit: bool):
        from search.answer import CONFIDENCE_WEIGHTS, FEATURE_NAMES
        from search.selectors import (
            ANSWER_ALTERNATIVES,
            SearchQueryError,
            answer_candidates,
            article_search,
        )

        locales = self._locales()
        rows, labels, tops = [], [], []
        for query in queries:
            try:
                result = article_search(
                    query=query.text,
                    locale=locales[query.lang],
                    limit=1 + ANSWER_ALTERNATIVES,
                )
            except SearchQueryError:
                tops.append(None)
                continue
            candidates = answer_candidates(
                result=result, query=result.suggestion or query.text
            )
            top = None
            for rank, candidate in enumerate(candidates):
                doc = pages.get(candidate.hit.article.pk)
                right = dataset.qrels[query.id].get(doc, 0) > 0
                rows.append(candidate.features.vector())
                labels.append(right)
                if rank == 0:
                    top = (len(rows) - 1, candidate.confidence, right)
            tops.append(top)

        def outcomes(weights):
            pairs = []
            for top in tops:
                if top is None:
                    pairs.append((0.0, False))
                    continue
                index, _, right = top
                pairs.append((_probability(weights, rows[index]), right))
            return pairs

        self._print_answer_table("shipped weights", outcomes(CONFIDENCE_WEIGHTS))
        if fit and rows:
            weights = logistic_fit(rows, labels)
            self.stdout.write("")
            self.stdout.write(
                "Fitted confidence weights (search/answer.py CONFIDENCE_WEIGHTS):"
            )
            self.stdout.write(
                "  ("
                + ", ".join(f"{w:.3f}" for w in weights)
                + ")  # "
                + ", ".join(FEATURE_NAMES)
            )
            probabilities = [_probability(weights, row) for row in rows]
            self.stdout.write(
                f"  log loss over {len(rows)} candidates: "
                f"{log_loss(probabilities, labels):.4f}"
            )
            self._print_answer_table("fitted weights", outcomes(weights))

    def _print_answer_table(self, label: str, outcomes):
        right = sum(r for _, r in outcomes)
        self.stdout.write("")
        self.stdout.write(
            f"Bot answers ({label}): {len(outcomes)} questions, top answer right for "
            f"{right / max(1, len(outcomes)):.3f}; handoff threshold now "
            f"{settings.KB_ANSWER_HANDOFF_BELOW}"
        )
        self.stdout.write(
            "| threshold | answered | right among answered | handed off |"
        )
        self.stdout.write("|---|---|---|---|")
        for row in threshold_table(outcomes, THRESHOLDS):
            self.stdout.write(
                f"| {row.threshold:.1f} | {row.answered:.3f} | {row.precision:.3f} | "
                f"{row.handed_off:.3f} |"
            )
        self.stdout.write(
            "Calibration (confidence bin: mean confidence, share right, n):"
        )
        for low in range(CALIBRATION_BINS):
            lo, hi = low / CALIBRATION_BINS, (low + 1) / CALIBRATION_BINS
            inside = [
                (c, r) for c, r in outcomes if lo <= c < hi or (hi == 1 and c == 1)
            ]
            if inside:
                mean = sum(c for c, _ in inside) / len(inside)
                share = sum(r for _, r in inside) / len(inside)
                self.stdout.write(
                    f"  [{lo:.1f}, {hi:.1f}): {mean:.3f}, {share:.3f}, {len(inside)}"
                )


def _probability(weights, vector) -> float:
    z = sum(w * x for w, x in zip(weights, vector, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
