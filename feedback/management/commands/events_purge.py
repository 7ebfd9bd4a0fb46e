"""manage.py events_purge [--dry-run] [--days N]"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from feedback.rollups import events_purge


class Command(BaseCommand):
    help = (
        "Deletes raw events older than KB_EVENT_RETENTION_DAYS, after rolling up the "
        "days being purged (the rollups are kept). Run it daily (cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only say what would be rolled up and deleted.",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Retention in days (default: KB_EVENT_RETENTION_DAYS).",
        )

    def handle(self, *args, dry_run, days, **options):
        retention = settings.KB_EVENT_RETENTION_DAYS if days is None else days
        if retention < 1:
            raise CommandError("The retention must be at least 1 day.")
        report = events_purge(retention_days=retention, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        rolled = len(report.rolled_up_days)
        self.stdout.write(
            f"{verb} {report.events} events before {report.cutoff} "
            f"({'would roll up' if dry_run else 'rolled up'} {rolled} day(s) first)."
        )
