from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from feedback.models import ApiKeyScope
from feedback.services import api_key_create


class Command(BaseCommand):
    help = "Creates an API key and prints it once; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--scope", required=True, choices=ApiKeyScope.values)

    def handle(self, *args, name, scope, **options):
        try:
            key, raw_key = api_key_create(name=name, scope=scope)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        self.stderr.write(
            f"Created {key.scope} key {key.name!r} ({key.prefix}), shown only once:"
        )
        self.stdout.write(raw_key)
