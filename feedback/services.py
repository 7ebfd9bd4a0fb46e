"""Writes of the feedback app: votes, journey events, API keys; and the outcome rule."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from articles.models import ArticlePage
from feedback.models import (
    COMMENT_MAX_LENGTH,
    ApiKey,
    ApiKeyScope,
    Channel,
    Event,
    EventType,
    Vote,
    VoteReason,
)

MAX_BATCH = 100
MAX_ID_LENGTH = 64
MAX_QUERY_LENGTH = 500
MAX_RESULT_IDS = 100
MAX_RANK = 1000
# Events may carry their own time (queued offline by a widget or a bot), within reason.
MAX_EVENT_AGE = timedelta(days=7)
MAX_CLOCK_SKEW = timedelta(minutes=5)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")
REJECT_REASONS = {VoteReason.NOT_RELATED.value, VoteReason.DIDNT_ANSWER.value}
NEEDS_ARTICLE = {EventType.CLICK, EventType.VIEW, EventType.VOTE}
# Fields a client may send; anything else is refused, so no personal data slips in.
EVENT_FIELDS = {
    "id",
    "type",
    "journey_id",
    "channel",
    "locale",
    "at",
    "search_id",
    "article_id",
    "rank",
    "reason",
    "query",
    "result_count",
    "result_ids",
    "helpful",
    "time_on_page",
}


def query_normalise(query: str) -> str:
    """The form a query is grouped by in reports: case-folded, single-spaced."""
    return " ".join(query.split()).casefold()[:MAX_QUERY_LENGTH]


def _attribution_window() -> timedelta:
    return timedelta(hours=getattr(settings, "KB_ATTRIBUTION_WINDOW_HOURS", 24))


# --- votes ---


@transaction.atomic
def vote_record(
    *,
    article: ArticlePage,
    helpful: bool,
    visitor_id: str,
    reason: str | None = None,
    comment: str = "",
    channel: str = Channel.WEB,
    journey_id: str | None = None,
) -> Vote:
    """Records or changes a visitor's vote on the live revision; logs a `vote` event."""
    if reason is not None and reason not in VoteReason.values:
        raise ValidationError({"reason": "Unknown reason."})
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError({"comment": f"At most {COMMENT_MAX_LENGTH} characters."})
    if not visitor_id or len(visitor_id) > MAX_ID_LENGTH:
        raise ValidationError({"visitor_id": "Missing or too long."})
    if helpful:
        # Reasons explain a "No"; a changed mind to "Yes" drops the old one.
        reason = None
    vote, created = Vote.objects.select_for_update().get_or_create(
        article=article,
        visitor_id=visitor_id,
        defaults={
            "helpful": helpful,
            "reason": reason,
            "comment": comment.strip(),
            "revision": article.live_revision,
        },
    )
    if not created:
        if vote.helpful != helpful:
            # A changed answer belongs to the revision now live.
            vote.revision = article.live_revision
            vote.reason = None
        vote.helpful = helpful
        if reason is not None or helpful:
            vote.reason = reason
        if comment.strip():
            vote.comment = comment.strip()
        vote.save()
    Event.objects.create(
        type=EventType.VOTE,
        journey_id=journey_id or "",
        channel=channel,
        locale=article.locale.language_code,
        article=article,
        reason=vote.reason,
        extra={"helpful": helpful},
    )
    return vote


# --- events ---


def problem_path(problem: dict) -> str:
    """Where a batch problem lies: `events[3].rank`, or `events` for the whole batch."""
    if problem["index"] is None:
        return problem["field"]
    return f"events[{problem['index']}].{problem['field']}"


class EventBatchInvalid(ValidationError):
    """A batch with at least one bad event; `problems` names each by index."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__({problem_path(p): [p["message"]] for p in problems})


def _event_clean(
    raw,
    *,
    index: int,
    channel_default: str,
    now: datetime,
    articles: dict[int, ArticlePage],
):
    """(unsaved Event, []) for a valid raw event, else (None, its problems)."""
    problems: list[dict] = []

    def bad(field_name: str, message: str) -> None:
        problems.append({"index": index, "field": field_name, "message": message})

    if not isinstance(raw, dict):
        bad("event", "Each event is a JSON object.")
        return None, problems
    for key in sorted(set(raw) - EVENT_FIELDS):
        bad(key, "Unknown field.")
    try:
        event_id = uuid.UUID(str(raw.get("id", "")))
    except ValueError:
        bad("id", "A UUID is required.")
        event_id = None
    event_type = raw.get("type")
    if event_type not in EventType.values:
        bad("type", f"Unknown event type {str(event_type)[:30]!r}.")
    channel = raw.get("channel") or channel_default
    if channel not in Channel.values:
        bad("channel", "Unknown channel.")
    strings = {}
    for name, limit in (
        ("journey_id", MAX_ID_LENGTH),
        ("search_id", MAX_ID_LENGTH),
        ("locale", 16),
    ):
        value = raw.get(name) or ""
        if (
            not isinstance(value, str)
            or len(value) > limit
            or (value and not _SAFE_ID.match(value))
        ):
            bad(name, f"At most {limit} letters, digits, '-', '_', '.' or ':'.")
            value = ""
        strings[name] = value
    at = now
    if raw.get("at") is not None:
        parsed = parse_datetime(raw["at"]) if isinstance(raw["at"], str) else None
        if parsed is None or timezone.is_naive(parsed):
            bad("at", "An ISO 8601 time with a time zone is required.")
        elif not (now - MAX_EVENT_AGE <= parsed <= now + MAX_CLOCK_SKEW):
            bad("at", "Too far in the past or the future.")
        else:
            at = parsed
    article = None
    article_id = raw.get("article_id")
    if article_id is not None:
        if (
            not isinstance(article_id, int)
            or isinstance(article_id, bool)
            or article_id not in articles
        ):
            bad("article_id", "Unknown article.")
        else:
            article = articles[article_id]
    elif event_type in NEEDS_ARTICLE:
        bad("article_id", "Required for this event type.")
    rank = raw.get("rank")
    if rank is not None and (
        not isinstance(rank, int) or isinstance(rank, bool) or not 1 <= rank <= MAX_RANK
    ):
        bad("rank", f"A whole number from 1 to {MAX_RANK}.")
    if event_type == EventType.CLICK and rank is None:
        bad("rank", "Required for a click.")
    reason = raw.get("reason")
    allowed_reasons = (
        REJECT_REASONS if event_type == EventType.REJECTED else set(VoteReason.values)
    )
    if reason is not None and (
        event_type not in (EventType.REJECTED, EventType.VOTE)
        or reason not in allowed_reasons
    ):
        bad("reason", "Not a reason this event type takes.")
    query = raw.get("query") or ""
    if not isinstance(query, str) or len(query) > MAX_QUERY_LENGTH:
        bad("query", f"At most {MAX_QUERY_LENGTH} characters.")
        query = ""
    result_count = raw.get("result_count")
    if result_count is not None and (
        not isinstance(result_count, int)
        or isinstance(result_count, bool)
        or result_count < 0
    ):
        bad("result_count", "A whole number, 0 or more.")
    result_ids = raw.get("result_ids") or []
    if (
        not isinstance(result_ids, list)
        or len(result_ids) > MAX_RESULT_IDS
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in result_ids)
    ):
        bad("result_ids", f"A list of at most {MAX_RESULT_IDS} article ids.")
        result_ids = []
    extra = {}
    helpful = raw.get("helpful")
    if event_type == EventType.VOTE:
        if not isinstance(helpful, bool):
            bad("helpful", "Required for a vote: true or false.")
        extra["helpful"] = helpful
    elif helpful is not None:
        bad("helpful", "Only votes take it.")
    time_on_page = raw.get("time_on_page")
    if time_on_page is not None:
        if (
            event_type != EventType.VIEW
            or not isinstance(time_on_page, int)
            or not 0 <= time_on_page <= 86400
        ):
            bad("time_on_page", "Seconds (0 to 86400), on views only.")
        else:
            extra["time_on_page"] = time_on_page
    if problems:
        return None, problems
    return Event(
        id=event_id,
        type=event_type,
        channel=channel,
        at=at,
        article=article,
        rank=rank,
        reason=reason,
        query=query_normalise(query),
        result_count=result_count,
        result_ids=result_ids,
        extra=extra,
        locale=strings["locale"] or (article.locale.language_code if article else ""),
        journey_id=strings["journey_id"],
        search_id=strings["search_id"],
    ), []


def event_record_batch(
    *, events: list, channel_default: str = Channel.API, now: datetime | None = None
) -> tuple[int, int]:
    """Stores a batch of events, all or none; returns (accepted, duplicates) by id."""
    if not isinstance(events, list) or not events:
        raise EventBatchInvalid(
            [
                {
                    "index": None,
                    "field": "events",
                    "message": "A non-empty list is required.",
                }
            ]
        )
    if len(events) > MAX_BATCH:
        raise EventBatchInvalid(
            [
                {
                    "index": None,
                    "field": "events",
                    "message": f"At most {MAX_BATCH} events per batch.",
                }
            ]
        )
    now = now or timezone.now()
    wanted = {
        e.get("article_id")
        for e in events
        if isinstance(e, dict) and isinstance(e.get("article_id"), int)
    }
    articles = {
        a.pk: a
        for a in ArticlePage.objects.live()
        .public()
        .filter(pk__in=wanted)
        .select_related("locale")
    }
    cleaned: list[Event] = []
    problems: list[dict] = []
    for index, raw in enumerate(events):
        event, event_problems = _event_clean(
            raw,
            index=index,
            channel_default=channel_default,
            now=now,
            articles=articles,
        )
        problems.extend(event_problems)
        if event is not None:
            cleaned.append(event)
    if problems:
        raise EventBatchInvalid(problems)
    unique: dict[uuid.UUID, Event] = {}
    for event in cleaned:
        unique.setdefault(event.id, event)
    with transaction.atomic():
        existing = set(Event.objects.filter(pk__in=unique).values_list("pk", flat=True))
        fresh = [e for pk, e in unique.items() if pk not in existing]
        # ignore_conflicts: a concurrent retry of this batch must not fail the request.
        Event.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh), len(cleaned) - len(fresh)


def search_record(
    *,
    query: str,
    locale: str,
    result_ids: list[int],
    channel: str = Channel.WEB,
    journey_id: str | None = None,
    result_count: int | None = None,
) -> str:
    """Logs a search (its total hit count and the articles it showed); returns its `search_id`."""
    search_id = uuid.uuid4().hex
    Event.objects.create(
        type=EventType.SEARCH,
        journey_id=journey_id or "",
        channel=channel,
        locale=locale,
        search_id=search_id,
        query=query_normalise(query),
        result_count=len(result_ids) if result_count is None else result_count,
        result_ids=list(result_ids)[:MAX_RESULT_IDS],
    )
    return search_id


# --- API keys ---


def _key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, name: str, scope: str) -> tuple[ApiKey, str]:
    """A new API key; the raw key is returned once and only its hash is stored."""
    if scope not in ApiKeyScope.values:
        raise ValidationError({"scope": f"One of {', '.join(ApiKeyScope.values)}."})
    prefix = secrets.token_hex(6)
    raw_key = f"kb_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name, scope=scope, prefix=prefix, key_hash=_key_hash(raw_key)
    )
    return key, raw_key


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The unrevoked key matching `raw_key` (its last use noted), or None."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "kb":
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, _key_hash(raw_key)):
        return None
    now = timezone.now()
    # A plain UPDATE: no read-modify-write, and no write at all within the same minute.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


# --- outcomes ---


class Outcome:
    DEFLECTED = "deflected"
    TICKETED = "ticketed"
    ABANDONED = "abandoned"
    NONE = "none"


@dataclass(frozen=True)
class JourneyOutcome:
    outcome: str
    # For deflections: True when the customer said so (`resolved`), False when inferred.
    explicit: bool = False
    # False while the attribution window is still open: the outcome is "so far".
    settled: bool = True
    # For tickets: the articles clicked or viewed before the first escalation or ticket.
    articles_before_ticket: list[int] = field(default_factory=list)


def _is_positive(event, *, searched_before: bool) -> bool:
    if event.type == EventType.RESOLVED:
        return True
    if event.type == EventType.VOTE:
        return (event.extra or {}).get("helpful") is True
    if event.type == EventType.CLICK:
        return True
    if event.type == EventType.VIEW:
        return bool(event.search_id) or searched_before
    return False


def journey_outcome(
    *, events: Iterable[Event], now: datetime, window: timedelta | None = None
) -> JourneyOutcome:
    """The outcome of one journey's events, by this rule.

    window defaults to settings.KB_ATTRIBUTION_WINDOW_HOURS.

    - anchor = the first positive signal: `resolved`, a helpful `vote`, a `click`
      (it names a search) or a `view` reached from a search (it names a search_id,
      or follows a `search` in the journey); without one, the journey's first event.
    - ticketed: an `escalated` or `ticket` event at or before anchor + window (the edge
      included), whether or not self-service came first.
    - deflected: a positive signal and no such escalation; explicit when a `resolved`
      event is among the signals up to the window's end, inferred otherwise.
    - abandoned: a `search`, and neither of the above.
    - none: nothing to count (say, an article read straight from a search engine).
    `settled` is False while now <= anchor + window: a later ticket could change it.
    """
    window = _attribution_window() if window is None else window
    ordered = sorted(events, key=lambda e: e.at)
    if not ordered:
        return JourneyOutcome(Outcome.NONE)
    searched = False
    first_positive = None
    for event in ordered:
        if event.type == EventType.SEARCH:
            searched = True
        elif first_positive is None and _is_positive(event, searched_before=searched):
            first_positive = event
    anchor = (first_positive or ordered[0]).at
    window_end = anchor + window
    settled = now > window_end
    escalation = next(
        (
            e
            for e in ordered
            if e.type in (EventType.ESCALATED, EventType.TICKET) and e.at <= window_end
        ),
        None,
    )
    if escalation is not None:
        seen = []
        for e in ordered:
            if e.at > escalation.at or e is escalation:
                break
            if (
                e.type in (EventType.CLICK, EventType.VIEW)
                and e.article_id
                and e.article_id not in seen
            ):
                seen.append(e.article_id)
        return JourneyOutcome(Outcome.TICKETED, articles_before_ticket=seen)
    if first_positive is not None:
        explicit = any(
            e.type == EventType.RESOLVED and e.at <= window_end for e in ordered
        )
        return JourneyOutcome(Outcome.DEFLECTED, explicit=explicit, settled=settled)
    if searched:
        return JourneyOutcome(Outcome.ABANDONED, settled=settled)
    return JourneyOutcome(Outcome.NONE, settled=settled)
