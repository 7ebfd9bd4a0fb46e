from django.apps import AppConfig


class KbSiteConfig(AppConfig):
    name = "kb_site"
    default_auto_field = "django.db.models.BigAutoField"
