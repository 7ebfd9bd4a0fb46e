from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from feedback.models import ApiKeyScope
from feedback.services import api_key_authenticate, api_key_create


class Command(BaseCommand):
    help = "Creates an API key and prints it once; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--scope", required=True, choices=ApiKeyScope.values)
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            dest="origins",
            metavar="ORIGIN",
            help="Widget keys: an origin (https://shop.example.com) whose pages may "
            "use the key. Repeat for several.",
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Widget keys: keep the raw key in KB_DEMO_WIDGET_KEY_FILE for "
            "/widget-demo/, and reuse the key stored there while it is still valid.",
        )

    def handle(self, *args, name, scope, origins, demo, **options):
        if demo:
            if scope != ApiKeyScope.WIDGET:
                raise CommandError("--demo needs --scope widget.")
            path = settings.KB_DEMO_WIDGET_KEY_FILE
            stored = path.read_text().strip() if path.exists() else ""
            if stored and api_key_authenticate(raw_key=stored) is not None:
                self.stderr.write(f"Reusing the demo widget key in {path}.")
                return
        try:
            key, raw_key = api_key_create(
                name=name, scope=scope, allowed_origins=origins
            )
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        if demo:
            path.write_text(raw_key + "\n")
            path.chmod(0o600)
            self.stderr.write(f"Created demo widget key {key.prefix}, saved in {path}.")
            return
        origins_note = f" for {', '.join(key.allowed_origins)}" if origins else ""
        self.stderr.write(
            f"Created {key.scope} key {key.name!r} ({key.prefix}){origins_note}, "
            "shown only once:"
        )
        self.stdout.write(raw_key)
