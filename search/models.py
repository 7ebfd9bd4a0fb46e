"""Search tuning that writers edit in the admin, applied at query time (no reindex)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.models import Locale


class Synonym(models.Model):
    """A group of words or phrases that mean the same to customers, in one locale."""

    locale = models.ForeignKey(Locale, on_delete=models.CASCADE, related_name="+")
    terms = models.CharField(
        max_length=500,
        help_text=_(
            "Comma-separated words or phrases that mean the same, e.g. 'sign in, log in, login'."
        ),
    )

    panels = [FieldPanel("locale"), FieldPanel("terms")]

    class Meta:
        ordering = ["locale__language_code", "terms"]

    def __str__(self) -> str:
        return f"{self.locale.language_code}: {self.terms}"

    def term_list(self) -> list[str]:
        return [
            t
            for t in (" ".join(part.lower().split()) for part in self.terms.split(","))
            if t
        ]
