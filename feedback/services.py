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
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from articles.models import ArticleAudience, ArticlePage
from articles.selectors import MAX_ID
from feedback.forwarding import contact_forward
from feedback.models import (
    COMMENT_MAX_LENGTH,
    AgentLink,
    ApiKey,
    ApiKeyScope,
    Channel,
    Event,
    EventType,
    Ticket,
    TicketSource,
    TicketStatus,
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
    search_id: str | None = None,
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
        search_id=search_id or "",
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
        if isinstance(e, dict)
        and isinstance(e.get("article_id"), int)
        # Ids beyond a database integer are unknown articles, not a crash.
        and 0 < e["article_id"] <= MAX_ID
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


_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


def origin_clean(value: str) -> str:
    """`scheme://host[:port]` in lower case, as browsers send it in `Origin`."""
    origin = value.strip().rstrip("/").lower()
    if not _ORIGIN.match(origin):
        raise ValidationError(
            {"allowed_origins": f"{value!r} is not an origin like https://example.com."}
        )
    return origin


@transaction.atomic
def api_key_create(
    *, name: str, scope: str, allowed_origins: Iterable[str] = ()
) -> tuple[ApiKey, str]:
    """A new API key; the raw key is returned once and only its hash is stored."""
    if scope not in ApiKeyScope.values:
        raise ValidationError({"scope": f"One of {', '.join(ApiKeyScope.values)}."})
    origins = list(dict.fromkeys(origin_clean(o) for o in allowed_origins))
    if origins and scope != ApiKeyScope.WIDGET:
        raise ValidationError({"allowed_origins": "Only widget keys have origins."})
    prefix = secrets.token_hex(6)
    raw_key = f"kb_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name,
        scope=scope,
        prefix=prefix,
        key_hash=_key_hash(raw_key),
        allowed_origins=origins,
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


# --- contact requests and tickets (kb_site/contact.py, kb_site/api/tickets.py) ---

TICKET_SUBJECT_MAX = 200
TICKET_REF_MAX = 100
_EMAIL_HASH = re.compile(r"^[0-9a-f]{64}$")
# A helpdesk ticket without a journey joins the newest contact-form or widget ticket
# with the same e-mail hash, if that one is at most this old.
TICKET_JOIN_MAX_AGE = timedelta(days=30)
# Namespace of the ticket events' derived ids: a repeated webhook never adds one.
_TICKET_EVENT_NAMESPACE = uuid.UUID("6f1c1b4e-2d3a-4c57-9a55-4b1f0c2d7e90")


def _email_hash_salt() -> bytes:
    salt = getattr(settings, "KB_EMAIL_HASH_SALT", "")
    if salt:
        return salt.encode()
    # Derived, so that the SECRET_KEY itself is never the HMAC key of public data.
    return hmac.new(
        settings.SECRET_KEY.encode(), b"kb-email-hash", hashlib.sha256
    ).digest()


def email_hash_compute(*, email: str) -> str:
    """HMAC-SHA256 (salt: KB_EMAIL_HASH_SALT) of a trimmed, case-folded address."""
    normalised = email.strip().casefold()
    if not normalised:
        return ""
    return hmac.new(_email_hash_salt(), normalised.encode(), hashlib.sha256).hexdigest()


def _ticket_check(
    *,
    source: str,
    channel: str,
    status: str | None,
    journey_id: str,
    search_id: str,
    locale: str,
    external_ref: str,
    email_hash: str,
) -> None:
    problems: dict[str, str] = {}
    if source not in TicketSource.values:
        problems["source"] = f"One of {', '.join(TicketSource.values)}."
    if channel not in Channel.values:
        problems["channel"] = f"One of {', '.join(Channel.values)}."
    if status is not None and status not in TicketStatus.values:
        problems["status"] = f"One of {', '.join(TicketStatus.values)}."
    for name, value, limit in (
        ("journey_id", journey_id, MAX_ID_LENGTH),
        ("search_id", search_id, MAX_ID_LENGTH),
        ("locale", locale, 16),
    ):
        if value and (len(value) > limit or not _SAFE_ID.match(value)):
            problems[name] = f"At most {limit} letters, digits, '-', '_', '.' or ':'."
    if len(external_ref) > TICKET_REF_MAX or any(c in external_ref for c in "\r\n\0"):
        problems["external_ref"] = f"At most {TICKET_REF_MAX} characters, one line."
    if email_hash and not _EMAIL_HASH.match(email_hash):
        problems["email_hash"] = "64 lower-case hexadecimal characters (HMAC-SHA256)."
    if problems:
        raise ValidationError(problems)


def _ticket_journey_by_email(*, email_hash: str, now: datetime) -> str:
    """The journey of the newest contact-form or widget ticket with this e-mail hash."""
    if not email_hash:
        return ""
    ticket = (
        Ticket.objects.filter(
            email_hash=email_hash,
            source__in=(TicketSource.CONTACT_FORM, TicketSource.WIDGET),
            created__gte=now - TICKET_JOIN_MAX_AGE,
        )
        .exclude(journey_id="")
        .order_by("-created", "-pk")
        .first()
    )
    return ticket.journey_id if ticket else ""


def _ticket_event_record(*, ticket: Ticket, now: datetime) -> None:
    """The journey's `ticket` event, through the one event service."""
    if ticket.external_ref:
        event_id = uuid.uuid5(
            _TICKET_EVENT_NAMESPACE, f"{ticket.source}:{ticket.external_ref}"
        )
    else:
        event_id = uuid.uuid5(_TICKET_EVENT_NAMESPACE, f"pk:{ticket.pk}")
    event = {
        "id": str(event_id),
        "type": EventType.TICKET.value,
        "journey_id": ticket.journey_id,
        "channel": ticket.channel,
        "locale": ticket.locale,
        "search_id": ticket.search_id,
    }
    if ticket.article_id and ticket.article and ticket.article.live:
        event["article_id"] = ticket.article_id
    # The ticket's own time when the event service accepts it (a late webhook).
    if now - MAX_EVENT_AGE <= ticket.created <= now + MAX_CLOCK_SKEW:
        event["at"] = ticket.created.isoformat()
    event_record_batch(events=[event], channel_default=ticket.channel, now=now)


def _ticket_update(
    *,
    ticket: Ticket,
    status: str | None,
    journey_id: str,
    email_hash: str,
    subject: str,
    now: datetime,
) -> Ticket:
    changed = []
    if status is not None and status != ticket.status:
        if status == TicketStatus.REOPENED:
            ticket.reopened_count = F("reopened_count") + 1
            changed.append("reopened_count")
        ticket.status = status
        changed.append("status")
    joined = False
    if journey_id and not ticket.journey_id:
        ticket.journey_id, joined = journey_id, True
        changed.append("journey_id")
    if email_hash and not ticket.email_hash:
        ticket.email_hash = email_hash
        changed.append("email_hash")
    if subject and not ticket.subject:
        ticket.subject = subject
        changed.append("subject")
    if changed:
        ticket.save(update_fields=[*changed, "updated"])
        ticket.refresh_from_db(fields=["reopened_count"])
    if joined:
        _ticket_event_record(ticket=ticket, now=now)
    return ticket


def ticket_record(
    *,
    source: str,
    channel: str,
    journey_id: str = "",
    locale: str = "",
    subject: str = "",
    email: str | None = None,
    email_hash: str = "",
    external_ref: str = "",
    search_id: str = "",
    article: ArticlePage | None = None,
    status: str | None = None,
    created_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[Ticket, bool]:
    """Stores a ticket and its journey's `ticket` event, atomically: (ticket, created).

    - Idempotent on (source, external_ref) when external_ref is set: a repeat updates
      the status (a change to `reopened` adds one to reopened_count) and fills in a
      journey, e-mail hash or subject the first report lacked, and is not created.
    - `email` is never stored: only its salted hash (email_hash_compute); a caller
      that only knows the hash passes `email_hash`.
    - Without a journey_id, a ticket joins the journey of the newest contact-form or
      widget ticket (at most TICKET_JOIN_MAX_AGE old) with the same e-mail hash.
    - The `ticket` event is recorded only when the ticket belongs to a journey; its id
      is derived from the ticket, so no repeat or retry records it twice.
    Raises ValidationError for bad values.
    """
    now = now or timezone.now()
    external_ref = external_ref.strip()
    hashed = email_hash_compute(email=email) if email else email_hash.strip().lower()
    _ticket_check(
        source=source,
        channel=channel,
        status=status,
        journey_id=journey_id,
        search_id=search_id,
        locale=locale,
        external_ref=external_ref,
        email_hash=hashed,
    )
    subject = " ".join(subject.split())[:TICKET_SUBJECT_MAX]
    if created_at is not None and (timezone.is_naive(created_at) or created_at > now):
        created_at = now
    with transaction.atomic():
        if external_ref:
            existing = Ticket.objects.filter(
                source=source, external_ref=external_ref
            ).first()
            if existing is not None:
                return _ticket_update(
                    ticket=existing,
                    status=status,
                    journey_id=journey_id,
                    email_hash=hashed,
                    subject=subject,
                    now=now,
                ), False
        journey_id = journey_id or _ticket_journey_by_email(email_hash=hashed, now=now)
        try:
            with transaction.atomic():
                ticket = Ticket.objects.create(
                    source=source,
                    channel=channel,
                    journey_id=journey_id,
                    locale=locale,
                    subject=subject,
                    email_hash=hashed,
                    external_ref=external_ref,
                    search_id=search_id,
                    article=article,
                    status=status or TicketStatus.OPEN,
                    reopened_count=1 if status == TicketStatus.REOPENED else 0,
                    created=created_at or now,
                )
        except IntegrityError:
            if not external_ref:
                raise
            # A concurrent report of the same helpdesk ticket won the race.
            existing = Ticket.objects.get(source=source, external_ref=external_ref)
            return _ticket_update(
                ticket=existing,
                status=status,
                journey_id=journey_id,
                email_hash=hashed,
                subject=subject,
                now=now,
            ), False
        if ticket.journey_id:
            _ticket_event_record(ticket=ticket, now=now)
    return ticket, True


CONTACT_MESSAGE_MAX = 5000
EMAIL_MAX_LENGTH = 254


def contact_request_check(*, subject: str, message: str, email: str) -> dict:
    """The cleaned subject, message and e-mail of a contact request.

    Raises ValidationError naming each bad field.
    """
    problems: dict[str, str] = {}
    subject = " ".join(subject.split())
    message = message.strip()
    email = email.strip()
    if not subject:
        problems["subject"] = "Please describe your question in a few words."
    elif len(subject) > TICKET_SUBJECT_MAX:
        problems["subject"] = f"At most {TICKET_SUBJECT_MAX} characters."
    if not message:
        problems["message"] = "Please tell us what happened."
    elif len(message) > CONTACT_MESSAGE_MAX:
        problems["message"] = f"At most {CONTACT_MESSAGE_MAX} characters."
    try:
        if len(email) > EMAIL_MAX_LENGTH:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        problems["email"] = "Please enter a valid e-mail address, so we can answer."
    if problems:
        raise ValidationError(problems)
    return {"subject": subject, "message": message, "email": email}


def contact_request_submit(
    *,
    subject: str,
    message: str,
    email: str,
    source: str,
    channel: str,
    locale: str = "",
    journey_id: str = "",
    search_id: str = "",
    article: ArticlePage | None = None,
    escalate: bool = False,
) -> Ticket:
    """Forwards a customer's request to support, then records its ticket.

    Forwarding (feedback.forwarding: KB_CONTACT_WEBHOOK_URL or KB_CONTACT_EMAIL_TO)
    comes first: when it fails, ContactForwardError propagates and nothing is
    recorded, so no ticket is counted that support never received. With `escalate`,
    an `escalated` event (the customer chose to contact support) joins the `ticket`.
    Raises ValidationError for bad fields before anything is sent.
    """
    cleaned = contact_request_check(subject=subject, message=message, email=email)
    hashed = email_hash_compute(email=cleaned["email"])
    _ticket_check(
        source=source,
        channel=channel,
        status=None,
        journey_id=journey_id,
        search_id=search_id,
        locale=locale,
        external_ref="",
        email_hash=hashed,
    )
    payload = {
        **cleaned,
        "email_hash": hashed,
        "locale": locale,
        "channel": channel,
        "source": source,
        "journey_id": journey_id,
        "search_id": search_id,
        "article": (
            {"id": article.pk, "title": article.title, "url": article.get_full_url()}
            if article is not None
            else None
        ),
        "created_at": timezone.now().isoformat(),
    }
    contact_forward(payload=payload)
    with transaction.atomic():
        ticket, _created = ticket_record(
            source=source,
            channel=channel,
            journey_id=journey_id,
            locale=locale,
            subject=cleaned["subject"],
            email_hash=hashed,
            search_id=search_id,
            article=article,
        )
        if escalate and journey_id:
            event_record_batch(
                events=[
                    {
                        "id": str(uuid.uuid4()),
                        "type": EventType.ESCALATED.value,
                        "journey_id": journey_id,
                        "channel": channel,
                        "locale": locale,
                        "search_id": search_id,
                    }
                ],
                channel_default=channel,
            )
    return ticket


# --- journey deletion (privacy: manage.py journey_delete) ---


@transaction.atomic
def journey_delete(*, journey_id: str, email: str | None = None) -> dict[str, int]:
    """Deletes every event and ticket of a journey, and of the journeys an e-mail joins.

    With `email`, tickets carrying its hash go too, and so do the events of their
    journeys. Returns {"events": n, "tickets": n, "journeys": n}. Votes stay: they
    belong to an anonymous visitor cookie, not to a journey (their events go).
    """
    journeys = {journey_id} if journey_id else set()
    tickets = Ticket.objects.none()
    if journey_id:
        tickets = Ticket.objects.filter(journey_id=journey_id)
    if email:
        hashed = email_hash_compute(email=email)
        by_email = Ticket.objects.filter(email_hash=hashed)
        journeys |= set(
            by_email.exclude(journey_id="").values_list("journey_id", flat=True)
        )
        tickets = tickets | by_email
    tickets = tickets | Ticket.objects.filter(journey_id__in=journeys)
    events_deleted, _ = Event.objects.filter(journey_id__in=journeys).delete()
    tickets_deleted, _ = Ticket.objects.filter(pk__in=tickets.values("pk")).delete()
    return {
        "events": events_deleted,
        "tickets": tickets_deleted,
        "journeys": len(journeys),
    }


# --- agent links ---

AGENT_LINK_TOKEN_BYTES = 6
TICKET_REF_MAX_LENGTH = 100


@transaction.atomic
def agent_link_create(
    *, article: ArticlePage, ticket_ref: str, api_key: ApiKey | None = None
) -> AgentLink:
    """A new tracked link (`/l/<token>`) to a customer-visible article, for a ticket."""
    if article.audience != ArticleAudience.PUBLIC:
        raise ValidationError(
            {"article": "Internal articles cannot be sent to customers."}
        )
    ticket_ref = ticket_ref.strip()
    if len(ticket_ref) > TICKET_REF_MAX_LENGTH:
        raise ValidationError(
            {"ticket_ref": f"At most {TICKET_REF_MAX_LENGTH} characters."}
        )
    while True:
        # 8 URL-safe characters: short enough for a reply, 2**48 to guess from.
        token = secrets.token_urlsafe(AGENT_LINK_TOKEN_BYTES)
        if not AgentLink.objects.filter(token=token).exists():
            break
    return AgentLink.objects.create(
        token=token, article=article, ticket_ref=ticket_ref, api_key=api_key
    )


def agent_link_open(
    *,
    token: str,
    journey_id: str | None = None,
    count: bool = True,
    now: datetime | None = None,
) -> AgentLink | None:
    """The link behind a token whose article a customer may still read, or None.

    Unless `count` is False (a crawler or link preview), the open is counted on the
    link and logged as a `view` event on the agent channel, naming the token.
    """
    if not token or len(token) > 32:
        return None
    link = (
        AgentLink.objects.filter(
            token=token,
            article__live=True,
            article__audience=ArticleAudience.PUBLIC,
        )
        .select_related("article", "article__locale")
        .first()
    )
    if link is None or not count:
        return link
    now = now or timezone.now()
    with transaction.atomic():
        AgentLink.objects.filter(pk=link.pk).update(
            opened_count=F("opened_count") + 1,
            first_opened_at=Coalesce(F("first_opened_at"), now),
            last_opened_at=now,
        )
        Event.objects.create(
            type=EventType.VIEW,
            journey_id=journey_id or "",
            channel=Channel.AGENT,
            locale=link.article.locale.language_code,
            article=link.article,
            at=now,
            extra={"agent_link": link.token},
        )
    return link


# --- API key administration (feedback/admin_views.py) ---


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revokes a key now, once; requests with it get a 401 from then on."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=key.revoked_at
        )
    return key
