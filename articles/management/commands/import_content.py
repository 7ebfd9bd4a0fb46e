import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.services import article_import_apply, article_import_validate


class Command(BaseCommand):
    help = "Imports Markdown articles from a content folder (<locale>/<category>/<slug>.md); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would change; write nothing.",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Unpublish imported articles whose file is gone.",
        )

    def handle(
        self, *args, path: Path, dry_run: bool, prune: bool, verbosity: int, **options
    ):
        content = article_import_validate(root=path, prune=prune)
        if content.errors:
            for error in sorted(content.errors, key=lambda e: (str(e.path), e.line)):
                self.stderr.write(str(error))
            raise CommandError(
                f"{len(content.errors)} error(s) in {path}: nothing was imported."
            )
        report = article_import_apply(
            content=content,
            root=path,
            prune=prune,
            dry_run=dry_run,
            progress=self._progress,
        )
        prefix = "Would have " if dry_run else ""
        if verbosity >= 2:
            for label in report.created:
                self.stdout.write(f"  created   {label}")
            for label in report.updated:
                self.stdout.write(f"  updated   {label}")
            for label in report.unpublished:
                self.stdout.write(f"  unpublished {label}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}{'c' if prefix else 'C'}reated {len(report.created)} articles, updated {len(report.updated)}, "
                f"unchanged {len(report.unchanged)}, unpublished {len(report.unpublished)}; "
                f"{len(report.sections)} home or category pages created or changed."
            )
        )

    def _progress(self, items):
        items = list(items)
        if not sys.stderr.isatty():
            return items
        return self._bar(items)

    def _bar(self, items):
        total = len(items)
        for done, item in enumerate(items, start=1):
            filled = int(30 * done / total) if total else 30
            sys.stderr.write(
                f"\rImporting [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}"
            )
            sys.stderr.flush()
            yield item
        sys.stderr.write("\n")
