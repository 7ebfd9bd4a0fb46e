"""Daily rollups: outcome counts per day, locale, channel, article and normalised query.

Rollups are derived data. `rollup_compute` derives them from raw events, always the
same way, so a rebuild (`manage.py rollups_rebuild`) and the live figures the reports
compute for recent days agree by construction. Each counter has one meaning, so summing
a column over any grouping of rows is meaningful:

- `searches`, `no_result_searches` (result count 0) and `clicked_searches` (searches
  that got at least one click): one per `search` event, on the row of its day, locale,
  channel and normalised query, with no article.
- `clicks` and `views`: one per `click` / `view` event, on the row of its day, locale,
  channel, article and the query of the search it names (or no query).
- `journeys` and the outcomes (`deflected_explicit`, `deflected_inferred`, `ticketed`,
  `abandoned`, by `feedback.services.journey_outcome`): one per journey, counted on the
  day of its first event, with the locale and channel of its start and its first
  search's query. A deflection is credited to one article: the one the customer said
  helped (`resolved` naming an article), else the first article that gave a positive
  signal, else the first article reached before the window ended. Journeys still inside
  their attribution window count by what has happened so far. `journeys` counts every
  journey; those with nothing to count (an article read straight from a search engine)
  have no outcome.
- `views_before_ticket`: per ticketed journey, one for each article it clicked or read
  before its ticket, on that article's row (with the journey's day, locale, channel and
  first query).

`RollupDay` remembers which days were computed, when, and whether every journey of the
day had settled then. Readers (`rollup_figures`) use the stored rows of every day rolled
up after it ended and compute the others (today; a day never rolled up) live, so a
journey of yesterday still inside its window counts as of the last rebuild: run
`rollups_rebuild` from cron (hourly). Retention (`events_purge`) waits for settled days.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from feedback.models import DailyRollup, Event, EventType, RollupDay
from feedback.services import (
    Outcome,
    _attribution_window,
    _is_positive,
    journey_outcome,
)

logger = logging.getLogger("kb.feedback.rollups")

COUNTERS = (
    "searches",
    "no_result_searches",
    "clicked_searches",
    "clicks",
    "views",
    "journeys",
    "deflected_explicit",
    "deflected_inferred",
    "ticketed",
    "abandoned",
    "views_before_ticket",
)
DIMENSIONS = ("day", "locale", "channel", "article", "query")
REBUILD_SLICE_DAYS = 7
# SQLite allows 999 parameters per query in older builds: stay well under.
_CHUNK = 500
_JOURNEY_FIELDS = (
    "id",
    "journey_id",
    "type",
    "at",
    "channel",
    "locale",
    "search_id",
    "article_id",
    "extra",
    "query",
    "result_count",
)
_POSITIVE_TYPES = (EventType.CLICK, EventType.VIEW, EventType.VOTE, EventType.RESOLVED)

RowKey = tuple  # (day, locale, channel, article_id | None, query)


def day_start(day: date) -> datetime:
    """The first instant of a day in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_of(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def days_between(day_from: date, day_to: date) -> Iterator[date]:
    day = day_from
    while day <= day_to:
        yield day
        day += timedelta(days=1)


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass
class RollupResult:
    """Computed rows, keyed by (day, locale, channel, article id, query)."""

    rows: dict[RowKey, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    )
    # Per day: True when the day is over and all its journeys had settled.
    settled: dict[date, bool] = field(default_factory=dict)

    def add(self, key: RowKey, counter: str, n: int = 1) -> None:
        self.rows[key][counter] += n


def _credited_article(events: list, outcome, window: timedelta) -> int | None:
    """The one article a deflection is credited to (see the module docstring)."""
    searched = False
    first_positive = None
    for event in events:
        if event.type == EventType.SEARCH:
            searched = True
        elif _is_positive(event, searched_before=searched):
            first_positive = event
            break
    anchor = (first_positive or events[0]).at
    window_end = anchor + window
    if outcome.explicit:
        for event in events:
            if event.at > window_end:
                break
            if event.type == EventType.RESOLVED and event.article_id:
                return event.article_id
    if first_positive is not None and first_positive.article_id:
        return first_positive.article_id
    for event in events:
        if event.at > window_end:
            break
        if event.type in _POSITIVE_TYPES and event.article_id:
            return event.article_id
    return None


def _journey_rows(
    result: RollupResult,
    journeys: dict[str, list],
    *,
    day_from: date,
    day_to: date,
    now: datetime,
    window: timedelta,
) -> None:
    for events in journeys.values():
        events.sort(key=lambda e: (e.at, str(e.id)))
        first = events[0]
        day = day_of(first.at)
        if not day_from <= day <= day_to:
            continue
        outcome = journey_outcome(events=events, now=now, window=window)
        locale = next((e.locale for e in events if e.locale), "")
        query = next((e.query for e in events if e.type == EventType.SEARCH), "")
        base = (day, locale, first.channel)
        article_id = None
        counter = None
        if outcome.outcome == Outcome.DEFLECTED:
            article_id = _credited_article(events, outcome, window)
            counter = "deflected_explicit" if outcome.explicit else "deflected_inferred"
        elif outcome.outcome == Outcome.TICKETED:
            counter = "ticketed"
            for seen in outcome.articles_before_ticket:
                result.add((*base, seen, query), "views_before_ticket")
        elif outcome.outcome == Outcome.ABANDONED:
            counter = "abandoned"
        key = (*base, article_id, query)
        result.add(key, "journeys")
        if counter:
            result.add(key, counter)
        if not outcome.settled:
            result.settled[day] = False


def rollup_compute(
    *,
    day_from: date,
    day_to: date,
    now: datetime | None = None,
    article_ids: Iterable[int] | None = None,
    window: timedelta | None = None,
) -> RollupResult:
    """Rollup rows for the days day_from..day_to (inclusive), derived from raw events.

    Deterministic for the same events and `now`. With `article_ids`, only the rows of
    those articles are computed (a fast path for per-article figures).
    """
    now = now or timezone.now()
    window = _attribution_window() if window is None else window
    start, end = day_start(day_from), day_start(day_to + timedelta(days=1))
    ids = None if article_ids is None else sorted(set(article_ids))
    result = RollupResult()
    for day in days_between(day_from, day_to):
        result.settled[day] = now >= day_start(day + timedelta(days=1))
    if ids is not None and not ids:
        return result

    # One pass over the days' events: event-level counts, and each journey's events.
    # Filtering on the type lets SQLite use the (type, at) index for the time range.
    scan = Event.objects.filter(at__gte=start, at__lt=end)
    if ids is not None:
        scan = scan.filter(
            article_id__in=ids, type__in=(EventType.CLICK, EventType.VIEW)
        )
    else:
        scan = scan.filter(type__in=EventType.values)
    search_queries: dict[str, str] = {}
    searches: list = []
    clicks_and_views: list = []
    journeys: dict[str, list] = defaultdict(list)
    for row in scan.values_list(*_JOURNEY_FIELDS, named=True).iterator(chunk_size=5000):
        if row.type == EventType.SEARCH:
            searches.append(row)
            if row.search_id:
                search_queries[row.search_id] = row.query
        elif row.type in (EventType.CLICK, EventType.VIEW):
            clicks_and_views.append(row)
        if ids is None and row.journey_id:
            journeys[row.journey_id].append(row)
    missing = sorted(
        {r.search_id for r in clicks_and_views if r.search_id} - set(search_queries)
    )
    # Lookups by search id filter the type in Python: given `type = … AND search_id IN
    # (…)`, SQLite (without ANALYZE statistics) picks the (type, at) index and walks
    # every event of that type; a search id has only a handful of events.
    for chunk in _chunks(missing):
        search_queries.update(
            (search_id, query)
            for search_id, query, event_type in Event.objects.filter(
                search_id__in=chunk
            ).values_list("search_id", "query", "type")
            if event_type == EventType.SEARCH
        )
    clicked = {
        r.search_id
        for r in clicks_and_views
        if r.type == EventType.CLICK and r.search_id
    }
    # Clicks after the days (a search late in the evening) are looked up by search id.
    unclicked = sorted({r.search_id for r in searches if r.search_id} - clicked)
    for chunk in _chunks(unclicked):
        clicked.update(
            search_id
            for search_id, event_type in Event.objects.filter(
                search_id__in=chunk
            ).values_list("search_id", "type")
            if event_type == EventType.CLICK
        )
    for row in searches:
        key = (day_of(row.at), row.locale, row.channel, None, row.query)
        result.add(key, "searches")
        if row.result_count == 0:
            result.add(key, "no_result_searches")
        if row.search_id and row.search_id in clicked:
            result.add(key, "clicked_searches")
    for row in clicks_and_views:
        query = search_queries.get(row.search_id, "") if row.search_id else ""
        key = (day_of(row.at), row.locale, row.channel, row.article_id, query)
        result.add(key, "clicks" if row.type == EventType.CLICK else "views")

    # Journey-level counts: every journey whose first event falls in the days.
    if ids is None:
        for chunk in _chunks(sorted(journeys)):
            in_chunk = Event.objects.filter(journey_id__in=chunk)
            started_before = set(
                in_chunk.filter(at__lt=start).values_list("journey_id", flat=True)
            )
            for journey_id in started_before:
                del journeys[journey_id]
            go_on = (
                set(in_chunk.filter(at__gte=end).values_list("journey_id", flat=True))
                - started_before
            )
            if go_on:
                # They continue after the days: their outcome needs all their events.
                for journey_id in go_on:
                    journeys[journey_id] = []
                for row in Event.objects.filter(journey_id__in=go_on).values_list(
                    *_JOURNEY_FIELDS, named=True
                ):
                    journeys[row.journey_id].append(row)
        _journey_rows(
            result, journeys, day_from=day_from, day_to=day_to, now=now, window=window
        )
    else:
        # A journey credits an article through an event on it, at or after its start.
        journey_ids = sorted(
            set(
                Event.objects.filter(
                    type__in=_POSITIVE_TYPES, at__gte=start, article_id__in=ids
                )
                .exclude(journey_id="")
                .values_list("journey_id", flat=True)
            )
        )
        for chunk in _chunks(journey_ids):
            journeys = defaultdict(list)
            for row in Event.objects.filter(journey_id__in=chunk).values_list(
                *_JOURNEY_FIELDS, named=True
            ):
                journeys[row.journey_id].append(row)
            _journey_rows(
                result,
                journeys,
                day_from=day_from,
                day_to=day_to,
                now=now,
                window=window,
            )
    if ids is not None:
        wanted = set(ids)
        result.rows = {k: v for k, v in result.rows.items() if k[3] in wanted}
    return result


def rollups_rebuild(
    *, day_from: date, day_to: date, now: datetime | None = None
) -> int:
    """Recomputes the rollups of day_from..day_to from raw events; returns rows written.

    The computation reads outside the transaction (so event ingestion keeps going);
    the old rows are replaced by the new ones in one transaction.
    """
    now = now or timezone.now()
    horizon = purged_through()
    if horizon is not None and day_from <= horizon:
        # Those days' raw events are gone: recomputing them would erase their figures.
        day_from = horizon + timedelta(days=1)
    if day_from > day_to:
        return 0
    result = RollupResult()
    slice_from = day_from
    while slice_from <= day_to:
        # A week at a time bounds the memory a long rebuild needs.
        slice_to = min(day_to, slice_from + timedelta(days=REBUILD_SLICE_DAYS - 1))
        part = rollup_compute(day_from=slice_from, day_to=slice_to, now=now)
        result.rows.update(part.rows)
        result.settled.update(part.settled)
        slice_from = slice_to + timedelta(days=1)
    rows = [
        DailyRollup(
            day=day,
            locale=locale,
            channel=channel,
            article_id=article_id,
            query=query,
            **counts,
        )
        for (day, locale, channel, article_id, query), counts in sorted(
            result.rows.items(), key=lambda item: _sort_key(item[0])
        )
    ]
    with transaction.atomic():
        DailyRollup.objects.filter(day__gte=day_from, day__lte=day_to).delete()
        DailyRollup.objects.bulk_create(rows, batch_size=2000)
        RollupDay.objects.filter(day__gte=day_from, day__lte=day_to).delete()
        RollupDay.objects.bulk_create(
            RollupDay(day=day, computed_at=now, settled=settled)
            for day, settled in result.settled.items()
        )
    logger.info(
        "Rolled up %s..%s: %d rows, %d settled days",
        day_from,
        day_to,
        len(rows),
        sum(result.settled.values()),
    )
    return len(rows)


def _sort_key(key: RowKey) -> tuple:
    day, locale, channel, article_id, query = key
    return (day, locale, channel, article_id or 0, query)


def events_first_day() -> date | None:
    """The day of the oldest stored event (one index seek per event type)."""
    firsts = [
        Event.objects.filter(type=t).order_by("at").values_list("at", flat=True).first()
        for t in EventType.values
    ]
    firsts = [f for f in firsts if f is not None]
    return day_of(min(firsts)) if firsts else None


def figures_first_day() -> date | None:
    """The first day with figures: the oldest rollup or stored event."""
    first_rollup = RollupDay.objects.order_by("day").values_list("day", flat=True)
    candidates = [d for d in (first_rollup.first(), events_first_day()) if d]
    return min(candidates) if candidates else None


def unsettled_days(*, day_from: date, day_to: date) -> list[date]:
    """The days of the range whose stored rollups are missing or provisional."""
    settled = set(
        RollupDay.objects.filter(
            day__gte=day_from, day__lte=day_to, settled=True
        ).values_list("day", flat=True)
    )
    return [d for d in days_between(day_from, day_to) if d not in settled]


def days_to_compute_live(*, day_from: date, day_to: date) -> list[date]:
    """The days of the range that readers compute from raw events: today, and any
    day whose rollups are missing or were computed before the day was over.

    A past day rolled up after its end is read from its rows even when some of its
    journeys were still inside their window then (they count as of that rebuild,
    which cron repeats): so reports read rollups plus today's live events at most.
    """
    stored = {
        day
        for day, settled, computed_at in RollupDay.objects.filter(
            day__gte=day_from, day__lte=day_to
        ).values_list("day", "settled", "computed_at")
        if settled or computed_at >= day_start(day + timedelta(days=1))
    }
    return [d for d in days_between(day_from, day_to) if d not in stored]


def _runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) ranges."""
    run_start = previous = None
    for day in days:
        if previous is not None and day == previous + timedelta(days=1):
            previous = day
            continue
        if run_start is not None:
            yield run_start, previous
        run_start = previous = day
    if run_start is not None:
        yield run_start, previous


def _live_rows(
    *, day_from: date, day_to: date, now: datetime | None, ids: list[int] | None
) -> dict[RowKey, dict[str, int]]:
    """rollup_compute's rows, kept KB_ROLLUP_LIVE_CACHE_SECONDS in the cache: a page
    of reports (and the dashboard) then computes today's events once, not per figure."""
    seconds = getattr(settings, "KB_ROLLUP_LIVE_CACHE_SECONDS", 60)
    if now is not None or seconds <= 0:
        return rollup_compute(
            day_from=day_from, day_to=day_to, now=now, article_ids=ids
        ).rows
    digest = hashlib.sha256(f"{day_from}:{day_to}:{ids}".encode()).hexdigest()[:32]
    key = f"kb:rollup-live:{digest}"
    rows = cache.get(key)
    if rows is None:
        rows = dict(
            rollup_compute(day_from=day_from, day_to=day_to, article_ids=ids).rows
        )
        cache.set(key, rows, seconds)
    return rows


def rollup_figures(
    *,
    day_from: date,
    day_to: date,
    group_by: Iterable[str] = (),
    locale: str | None = None,
    channel: str | None = None,
    article_ids: Iterable[int] | None = None,
    query: str | None = None,
    has_article: bool | None = None,
    now: datetime | None = None,
) -> dict[tuple, dict[str, int]]:
    """Summed counters per `group_by` (names from DIMENSIONS) over a day range.

    Days rolled up after they ended are read from DailyRollup; the others (today) are
    computed live with the same code as a rebuild (see `days_to_compute_live`).
    """
    group_by = tuple(group_by)
    unknown = set(group_by) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"Unknown dimension(s): {', '.join(sorted(unknown))}")
    ids = None if article_ids is None else list(article_ids)
    live_days = days_to_compute_live(day_from=day_from, day_to=day_to)
    totals: dict[tuple, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(COUNTERS, 0)
    )
    if not group_by:
        totals[()] = dict.fromkeys(COUNTERS, 0)

    rows = DailyRollup.objects.filter(day__gte=day_from, day__lte=day_to)
    if live_days:
        rows = rows.exclude(day__in=live_days)
    if locale:
        rows = rows.filter(locale=locale)
    if channel:
        rows = rows.filter(channel=channel)
    if ids is not None:
        rows = rows.filter(article_id__in=ids)
    if query is not None:
        rows = rows.filter(query=query)
    if has_article is not None:
        rows = rows.filter(article__isnull=not has_article)
    if len(live_days) < (day_to - day_from).days + 1:
        aggregated = rows.values(*group_by).annotate(
            **{f"sum_{c}": Sum(c) for c in COUNTERS}
        )
        if not group_by:
            aggregated = [rows.aggregate(**{f"sum_{c}": Sum(c) for c in COUNTERS})]
        for row in aggregated:
            key = tuple(row[d] for d in group_by)
            for c in COUNTERS:
                totals[key][c] += row[f"sum_{c}"] or 0

    for run_from, run_to in _runs(live_days):
        computed = _live_rows(day_from=run_from, day_to=run_to, now=now, ids=ids)
        for key, counts in computed.items():
            values = dict(zip(DIMENSIONS, key, strict=True))
            if locale and values["locale"] != locale:
                continue
            if channel and values["channel"] != channel:
                continue
            if query is not None and values["query"] != query:
                continue
            if has_article is not None and (values["article"] is None) == has_article:
                continue
            group = tuple(values[d] for d in group_by)
            for c in COUNTERS:
                totals[group][c] += counts[c]
    return dict(totals)


# --- retention ---


def purged_through() -> date | None:
    """The last day whose raw events were purged (rollups of it can't be rebuilt)."""
    return (
        RollupDay.objects.filter(events_purged=True)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )


@dataclass(frozen=True)
class PurgeReport:
    cutoff: date
    rolled_up_days: list[date]
    events: int


def events_purge(
    *, retention_days: int, now: datetime | None = None, dry_run: bool = False
) -> PurgeReport:
    """Deletes raw events of the days before today - retention_days, rolled up first.

    A day's events are deleted only once its rollups are stored and settled; days
    that are not are rolled up first (never with dry_run, which only counts).
    """
    now = now or timezone.now()
    cutoff = day_of(now) - timedelta(days=retention_days)
    first = events_first_day()
    if first is None or first >= cutoff:
        return PurgeReport(cutoff=cutoff, rolled_up_days=[], events=0)
    last = cutoff - timedelta(days=1)
    to_roll_up = unsettled_days(day_from=first, day_to=last)
    if not dry_run:
        for run_from, run_to in _runs(to_roll_up):
            rollups_rebuild(day_from=run_from, day_to=run_to, now=now)
        still_open = unsettled_days(day_from=first, day_to=last)
        if still_open:
            # Never delete what is not rolled up: stop before the first such day.
            logger.warning("Not purging from %s: rollups not settled", still_open[0])
            last = still_open[0] - timedelta(days=1)
    deleted = 0
    for day in days_between(first, last):
        for event_type in EventType.values:
            # One (type, day) slice at a time: it uses the (type, at) index, and each
            # DELETE is a short transaction, so event ingestion is not held up.
            events = Event.objects.filter(
                type=event_type,
                at__gte=day_start(day),
                at__lt=day_start(day + timedelta(days=1)),
            )
            deleted += events.count() if dry_run else events.delete()[0]
        if not dry_run:
            RollupDay.objects.filter(day=day).update(events_purged=True)
    logger.info("Purged %d events before %s", deleted, cutoff)
    return PurgeReport(cutoff=cutoff, rolled_up_days=to_roll_up, events=deleted)
