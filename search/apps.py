from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    label = "kb_search"
    default_auto_field = "django.db.models.BigAutoField"
