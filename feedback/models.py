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
    # Widget keys only: the origins (scheme://host[:port]) whose pages may use the key.
    allowed_origins = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.scope}, {self.prefix})"


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SOLVED = "solved", _("Solved")
    REOPENED = "reopened", _("Reopened")


class TicketSource(models.TextChoices):
    CONTACT_FORM = "contact_form", _("Contact form")
    WIDGET = "widget", _("Widget")
    HELPDESK = "helpdesk", _("Helpdesk webhook")


class Ticket(models.Model):
    """A support request that self-service did not avoid.

    Created by the site's contact form, the widget, or a helpdesk webhook; this
    project forwards requests and does not manage them (it is not a ticketing system).
    """

    journey_id = models.CharField(max_length=64, blank=True, default="")
    channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.WEB
    )
    locale = models.CharField(max_length=16, blank=True, default="")
    source = models.CharField(max_length=20, choices=TicketSource.choices)
    # The helpdesk's own ticket id: webhooks are idempotent on (source, external_ref).
    external_ref = models.CharField(max_length=100, blank=True, default="")
    subject = models.CharField(max_length=200, blank=True, default="")
    # A salted SHA-256 of the customer's e-mail, to join the contact form with the
    # helpdesk's webhook; the address itself is forwarded, never stored.
    email_hash = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    reopened_count = models.PositiveIntegerField(default=0)
    search_id = models.CharField(max_length=64, blank=True, default="")
    article = models.ForeignKey(
        "articles.ArticlePage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="feedback_ticket_one_per_external_ref",
            )
        ]
        indexes = [
            models.Index(fields=["journey_id"]),
            models.Index(fields=["email_hash"]),
            models.Index(fields=["created"]),
        ]

    def __str__(self) -> str:
        return f"ticket {self.external_ref or self.pk} ({self.source})"


class DailyRollup(models.Model):
    """Outcome counts per day, locale, channel, article and normalised query.

    Derived data: `manage.py rollups_rebuild` recomputes it from raw events and
    gives the same figures as the live computation. Empty strings and a null
    article mean "all" is not implied: each row is one exact combination.
    """

    day = models.DateField()
    locale = models.CharField(max_length=16, blank=True, default="")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    article = models.ForeignKey(
        "articles.ArticlePage",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    query = models.CharField(max_length=500, blank=True, default="")
    searches = models.PositiveIntegerField(default=0)
    no_result_searches = models.PositiveIntegerField(default=0)
    # Searches that got at least one click (click-through = clicked / searches).
    clicked_searches = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    views = models.PositiveIntegerField(default=0)
    journeys = models.PositiveIntegerField(default=0)
    deflected_explicit = models.PositiveIntegerField(default=0)
    deflected_inferred = models.PositiveIntegerField(default=0)
    ticketed = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    views_before_ticket = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["day", "locale", "channel"]),
            models.Index(fields=["article", "day"]),
            models.Index(fields=["query", "day"]),
        ]
        permissions = [("view_reports", "Can view help-center reports")]

    def __str__(self) -> str:
        return f"{self.day} {self.locale} {self.channel}"


class RollupDay(models.Model):
    """A day whose DailyRollup rows were computed, and whether they are final.

    `settled` is False when a journey that started that day was still inside its
    attribution window at `computed_at`: readers then compute the day live instead.
    """

    day = models.DateField(unique=True)
    computed_at = models.DateTimeField()
    settled = models.BooleanField(default=False)
    # The day's raw events were deleted (retention): its rows can't be rebuilt again.
    events_purged = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.day} ({'settled' if self.settled else 'provisional'})"


class AgentLink(models.Model):
    """A short tracked link an agent put in a ticket reply: /l/<token>."""

    token = models.CharField(max_length=32, unique=True)
    article = models.ForeignKey(
        "articles.ArticlePage", on_delete=models.CASCADE, related_name="+"
    )
    ticket_ref = models.CharField(max_length=100, blank=True, default="")
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    opened_count = models.PositiveIntegerField(default=0)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ticket_ref"])]

    def __str__(self) -> str:
        return f"/l/{self.token} → {self.article_id}"
