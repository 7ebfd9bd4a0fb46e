import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Creates a demo superuser 'admin' with a generated password, when no superuser exists."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                "An admin user already exists; log in at /admin/ with it."
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@example.com", password)
        self.stdout.write(
            self.style.SUCCESS(
                "Created the demo admin for http://127.0.0.1:8000/admin/\n"
                f"  user name: admin\n  password:  {password}\n(shown once; change it in the admin)"
            )
        )
