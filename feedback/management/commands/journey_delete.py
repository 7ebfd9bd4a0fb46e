"""python manage.py journey_delete JOURNEY_ID [--email ADDRESS]: a deletion request."""

from django.core.management.base import BaseCommand, CommandError

from feedback.services import journey_delete


class Command(BaseCommand):
    help = (
        "Deletes every event and ticket of a journey; with --email, also the tickets "
        "carrying that address's hash and every event of their journeys."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "journey_id", nargs="?", default="", help="The journey id (cookie value)."
        )
        parser.add_argument(
            "--email", default=None, help="The customer's e-mail address."
        )

    def handle(self, *args, journey_id: str, email: str | None, **options):
        journey_id = journey_id.strip()
        if not journey_id and not (email or "").strip():
            raise CommandError("Give a JOURNEY_ID, --email ADDRESS, or both.")
        counts = journey_delete(journey_id=journey_id, email=email)
        self.stdout.write(
            f"Deleted {counts['events']} event(s) and {counts['tickets']} ticket(s) "
            f"of {counts['journeys']} journey(s)."
        )
