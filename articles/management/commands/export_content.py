from pathlib import Path

from django.core.management.base import BaseCommand

from articles.services import article_export


class Command(BaseCommand):
    help = "Writes the live help center as content files, in the format import_content reads."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--locale",
            action="append",
            dest="locales",
            help="Only this locale (repeatable).",
        )

    def handle(self, *args, path: Path, locales, **options):
        written = article_export(root=path, locales=locales)
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(written)} files to {path}."))
