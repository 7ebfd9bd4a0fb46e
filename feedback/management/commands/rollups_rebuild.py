"""manage.py rollups_rebuild [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--all]"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from feedback.rollups import events_first_day, rollups_rebuild

# Events may arrive up to 7 days late (queued offline), plus the attribution window.
DEFAULT_DAYS_BACK = 8


def parse_day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--{name}: expected YYYY-MM-DD, got {value!r}.") from exc


class Command(BaseCommand):
    help = (
        "Recomputes the daily rollups of a day range from raw events, replacing the "
        f"stored ones in one transaction. Default: the last {DEFAULT_DAYS_BACK} days "
        "up to today; run it hourly or daily (cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="day_from", metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="day_to", metavar="YYYY-MM-DD")
        parser.add_argument(
            "--all",
            action="store_true",
            help="From the day of the oldest stored event.",
        )

    def handle(self, *args, day_from, day_to, all, **options):
        today = timezone.localdate()
        last = parse_day(day_to, "to") if day_to else today
        if day_from:
            first = parse_day(day_from, "from")
        elif all:
            first = events_first_day() or last
        else:
            first = today - timedelta(days=DEFAULT_DAYS_BACK)
        if first > last:
            raise CommandError(f"--from {first} is after --to {last}.")
        rows = rollups_rebuild(day_from=first, day_to=last)
        self.stdout.write(f"Rolled up {first}..{last}: {rows} rows.")
