"""Helpfulness votes, journey events and API keys: the raw data of deflection."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

COMMENT_MAX_LENGTH = 1000


class VoteReason(models.TextChoices):
    OUTDATED = "outdated", _("It is out of date")
    UNCLEAR = "unclear", _("It is hard to understand")
    DIDNT_ANSWER = "didnt_answer", _("It didn't answer my question")
    NOT_RELATED = "not_related", _("It isn't about my problem")
    OTHER = "other", _("Something else")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    WIDGET = "widget", _("Widget")
    BOT = "bot", _("Bot")
    AGENT = "agent", _("Agent")
    API = "api", _("API")


class EventType(models.TextChoices):
    SEARCH = "search", _("Search")
    CLICK = "click", _("Click")
    VIEW = "view", _("View")
    VOTE = "vote", _("Vote")
    RESOLVED = "resolved", _("Resolved")
    REJECTED = "rejected", _("Rejected")
    ESCALATED = "escalated", _("Escalated")
    TICKET = "ticket", _("Ticket")


class Vote(models.Model):
    """A visitor's answer to "Was this article helpful?", changeable, never doubled."""

    article = models.ForeignKey(
        "articles.ArticlePage", on_delete=models.CASCADE, related_name="votes"
    )
    # The live revision the vote was cast on, so a major rewrite can start fresh.
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    visitor_id = models.CharField(max_length=64)
    helpful = models.BooleanField()
    # None, not "", when no reason was given: it reads as "unknown" in reports.
    reason = models.CharField(  # noqa: DJ001
        max_length=20, choices=VoteReason.choices, null=True, blank=True
    )
    comment = models.TextField(
        max_length=COMMENT_MAX_LENGTH, blank=True, help_text=_("Plain text.")
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "visitor_id"], name="feedback_vote_one_per_visitor"
            )
        ]
        indexes = [models.Index(fields=["article", "revision"])]

    def __str__(self) -> str:
        return (
            f"{'+' if self.helpful else '-'} {self.article_id} by {self.visitor_id[:8]}"
        )


class Event(models.Model):
    """One step of a journey; the primary key is the client's event id (idempotency)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=20, choices=EventType.choices)
    journey_id = models.CharField(max_length=64, blank=True, default="")
    channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.WEB
    )
    locale = models.CharField(max_length=16, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)
    search_id = models.CharField(max_length=64, blank=True, default="")
    article = models.ForeignKey(
        "articles.ArticlePage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rank = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=20, null=True, blank=True)  # noqa: DJ001
    query = models.CharField(
        max_length=500, blank=True, default="", help_text=_("Normalised.")
    )
    result_count = models.PositiveIntegerField(null=True, blank=True)
    result_ids = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["journey_id", "at"]),
            models.Index(fields=["type", "at"]),
            models.Index(fields=["search_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.journey_id} {self.at:%Y-%m-%d %H:%M}"


class ApiKeyScope(models.TextChoices):
    WIDGET = "widget", _("Widget")
    BOT = "bot", _("Bot")
    AGENT = "agent", _("Agent")
    HELPDESK = "helpdesk", _("Helpdesk")
    REPORTS = "reports", _("Reports")


class ApiKey(models.Model):
    """A key for the public API; only a SHA-256 hash of it is kept."""

    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=20, choices=ApiKeyScope.choices)
    prefix = models.CharField(
        max_length=16, unique=True, help_text=_("Public part, to find the key.")
    )
    key_hash = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.scope}, {self.prefix})"
