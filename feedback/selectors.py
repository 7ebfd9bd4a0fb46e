"""Reads of the feedback app."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from articles.models import ArticlePage
from feedback.models import (
    AgentLink,
    ApiKey,
    ApiKeyScope,
    Ticket,
    TicketStatus,
    Vote,
    VoteReason,
)
from feedback.rollups import day_of, day_start, figures_first_day, rollup_figures

# Crawlers and scripted clients: their votes don't count.
_BOT_USER_AGENT = re.compile(
    r"bot|crawl|spider|slurp|archiver|facebookexternalhit|embedly|preview|headless|"
    r"python-requests|python-urllib|curl|wget|httpclient|go-http-client|java/|libwww|scrapy",
    re.IGNORECASE,
)


def user_agent_is_bot(*, user_agent: str) -> bool:
    """True for an empty user agent or one of a known crawler or script."""
    return not user_agent.strip() or bool(_BOT_USER_AGENT.search(user_agent))


def vote_get(*, article: ArticlePage, visitor_id: str | None) -> Vote | None:
    """The visitor's vote on an article, or None."""
    if not visitor_id:
        return None
    return Vote.objects.filter(article=article, visitor_id=visitor_id).first()


def article_get_votable(*, article_id: int) -> ArticlePage | None:
    """A live, public article that can take votes, or None."""
    return (
        ArticlePage.objects.live()
        .public()
        .filter(pk=article_id)
        .select_related("locale")
        .first()
    )


@dataclass(frozen=True)
class VoteTally:
    up: int
    down: int

    @property
    def total(self) -> int:
        return self.up + self.down

    @property
    def helpful_share(self) -> float | None:
        return self.up / self.total if self.total else None

    @property
    def wilson_lower(self) -> float | None:
        """The lower bound of the 95% Wilson interval of the helpful share."""
        if not self.total:
            return None
        n, p, z = self.total, self.up / self.total, 1.96
        centre = p + z * z / (2 * n)
        margin = z * math.sqrt((p * (1 - p) + z * z / (4 * n)) / n)
        return (centre - margin) / (1 + z * z / n)


@dataclass(frozen=True)
class ArticleVoteSummary:
    current_revision: VoteTally
    overall: VoteTally


def article_vote_summary(*, article: ArticlePage) -> ArticleVoteSummary:
    """Up and down votes of an article, on its live revision and over all revisions."""
    counts = Vote.objects.filter(article=article).aggregate(
        up=Count("pk", filter=Q(helpful=True)),
        down=Count("pk", filter=Q(helpful=False)),
        up_now=Count("pk", filter=Q(helpful=True, revision=article.live_revision_id)),
        down_now=Count(
            "pk", filter=Q(helpful=False, revision=article.live_revision_id)
        ),
    )
    return ArticleVoteSummary(
        current_revision=VoteTally(up=counts["up_now"], down=counts["down_now"]),
        overall=VoteTally(up=counts["up"], down=counts["down"]),
    )


def vote_comment_list(
    *, limit: int = 200, article_ids: list[int] | None = None, since=None
) -> QuerySet[Vote]:
    """The newest votes that came with a comment, for writers to read."""
    votes = Vote.objects.exclude(comment="")
    if article_ids is not None:
        votes = votes.filter(article_id__in=article_ids)
    if since is not None:
        votes = votes.filter(updated__gte=since)
    return votes.select_related("article").order_by("-updated")[:limit]


def widget_origins_all() -> set[str]:
    """Every origin that some unrevoked widget key allows."""
    lists = ApiKey.objects.filter(
        scope=ApiKeyScope.WIDGET, revoked_at__isnull=True
    ).values_list("allowed_origins", flat=True)
    return {origin for origins in lists for origin in origins or ()}


# --- outcome figures (rollups + live; see feedback/rollups.py) ---


def article_outcome_counts(
    *, article_ids, since: date | datetime | None = None
) -> dict[int, dict]:
    """Per article: views, clicks, helpful up/down, deflections, tickets after reading.

    Deflections are journeys whose deflection is credited to the article; tickets after
    reading are ticketed journeys that clicked or read it first. Counted from the day
    of `since` (all time when None); settled days come from the rollups, recent ones
    are computed live. Votes are the visitors' current votes, changed since `since`.
    """
    ids = sorted({int(i) for i in article_ids})
    counts = {
        i: {
            "views": 0,
            "clicks": 0,
            "helpful_up": 0,
            "helpful_down": 0,
            "deflections": 0,
            "deflections_explicit": 0,
            "tickets_after_reading": 0,
        }
        for i in ids
    }
    if not ids:
        return counts
    today = timezone.localdate()
    if since is None:
        day_from = figures_first_day() or today
    elif isinstance(since, datetime):
        day_from = day_of(since)
    else:
        day_from = since
    if day_from <= today:
        figures = rollup_figures(
            day_from=day_from, day_to=today, group_by=("article",), article_ids=ids
        )
        for (article_id,), row in figures.items():
            if article_id not in counts:
                continue
            counts[article_id].update(
                views=row["views"],
                clicks=row["clicks"],
                deflections=row["deflected_explicit"] + row["deflected_inferred"],
                deflections_explicit=row["deflected_explicit"],
                tickets_after_reading=row["views_before_ticket"],
            )
    votes = Vote.objects.filter(article_id__in=ids)
    if since is not None:
        votes = votes.filter(
            updated__gte=since if isinstance(since, datetime) else day_start(since)
        )
    for row in votes.values("article_id").annotate(
        up=Count("pk", filter=Q(helpful=True)),
        down=Count("pk", filter=Q(helpful=False)),
    ):
        counts[row["article_id"]].update(helpful_up=row["up"], helpful_down=row["down"])
    return counts


@dataclass(frozen=True)
class DeflectionSummary:
    day_from: date
    day_to: date
    searches: int
    journeys: int
    deflected_explicit: int
    deflected_inferred: int
    ticketed: int
    abandoned: int

    @property
    def deflected(self) -> int:
        return self.deflected_explicit + self.deflected_inferred

    @property
    def deflection_rate(self) -> float | None:
        """deflected / (deflected + ticketed); None when neither happened."""
        decided = self.deflected + self.ticketed
        return self.deflected / decided if decided else None


def deflection_summary(
    *,
    day_from: date,
    day_to: date,
    locale: str | None = None,
    channel: str | None = None,
) -> DeflectionSummary:
    """Searches and journey outcomes of a day range; open journeys count as so far."""
    totals = rollup_figures(
        day_from=day_from, day_to=day_to, locale=locale, channel=channel
    )[()]
    return DeflectionSummary(
        day_from=day_from,
        day_to=day_to,
        searches=totals["searches"],
        journeys=totals["journeys"],
        deflected_explicit=totals["deflected_explicit"],
        deflected_inferred=totals["deflected_inferred"],
        ticketed=totals["ticketed"],
        abandoned=totals["abandoned"],
    )


# --- agent links ---


def agent_link_list() -> QuerySet[AgentLink]:
    """Agents' tracked links, newest first (reports filter them further)."""
    return AgentLink.objects.select_related("article", "article__locale").order_by(
        "-created"
    )


def ticket_refs_reopened() -> QuerySet[Ticket]:
    """External refs of helpdesk tickets that were reopened at least once."""
    return (
        Ticket.objects.exclude(external_ref="")
        .filter(Q(status=TicketStatus.REOPENED) | Q(reopened_count__gt=0))
        .values("external_ref")
    )


def agent_link_article_counts(*, links: QuerySet[AgentLink]) -> QuerySet:
    """Per article of `links`, most linked first: links, opens, links opened at least
    once, distinct tickets, and tickets the helpdesk reported reopened (a sign the
    article did not settle the question)."""
    with_ticket = ~Q(ticket_ref="")
    return (
        links.order_by()
        .values("article", "article__title", "article__locale__language_code")
        .annotate(
            links=Count("pk"),
            opens=Sum("opened_count"),
            links_opened=Count("pk", filter=Q(opened_count__gt=0)),
            tickets=Count("ticket_ref", distinct=True, filter=with_ticket),
            tickets_reopened=Count(
                "ticket_ref",
                distinct=True,
                filter=with_ticket & Q(ticket_ref__in=ticket_refs_reopened()),
            ),
        )
        .order_by("-links", "-opens", "article__title")
    )


# --- reports (the admin Reports menu and the home dashboard read these) ---


@dataclass(frozen=True)
class ReportPeriod:
    """What every report filters by: a day range, optionally a locale and a channel."""

    day_from: date
    day_to: date
    locale: str | None = None
    channel: str | None = None

    def figures(self, **kwargs) -> dict[tuple, dict[str, int]]:
        return rollup_figures(
            day_from=self.day_from,
            day_to=self.day_to,
            locale=self.locale,
            channel=self.channel,
            **kwargs,
        )


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _outcome_fields(row: dict[str, int]) -> dict:
    deflected = row["deflected_explicit"] + row["deflected_inferred"]
    return {
        "journeys": row["journeys"],
        "deflected": deflected,
        "deflected_explicit": row["deflected_explicit"],
        "deflected_inferred": row["deflected_inferred"],
        "ticketed": row["ticketed"],
        "abandoned": row["abandoned"],
        "deflection_rate": _rate(deflected, deflected + row["ticketed"]),
    }


def deflection_over_time(*, period: ReportPeriod, weekly: bool = False) -> list[dict]:
    """Outcomes per day (or ISO week, from Monday) and channel, oldest first."""
    figures = period.figures(group_by=("day", "channel"))
    buckets: dict[tuple, dict[str, int]] = {}
    for (day, channel), row in figures.items():
        start = day - timedelta(days=day.weekday()) if weekly else day
        bucket = buckets.setdefault((start, channel), dict.fromkeys(row, 0))
        for name, value in row.items():
            bucket[name] += value
    rows = [
        {"period": start, "channel": channel, "searches": row["searches"]}
        | _outcome_fields(row)
        for (start, channel), row in buckets.items()
        if row["journeys"] or row["searches"]
    ]
    return sorted(rows, key=lambda r: (r["period"], r["channel"]))


def search_query_figures(
    *, period: ReportPeriod, by_locale: bool = False
) -> list[dict]:
    """Per normalised query (and locale): searches, no-result and clicked searches,
    and the outcomes of the journeys that started with it."""
    group_by = ("query", "locale") if by_locale else ("query",)
    figures = period.figures(group_by=group_by)
    rows = []
    for key, row in figures.items():
        query = key[0]
        if not query or not (row["searches"] or row["journeys"]):
            continue
        with_results = row["searches"] - row["no_result_searches"]
        rows.append(
            {
                "query": query,
                "locale": key[1] if by_locale else period.locale or "",
                "searches": row["searches"],
                "no_result_searches": row["no_result_searches"],
                "clicked_searches": row["clicked_searches"],
                "unclicked_searches": max(0, with_results - row["clicked_searches"]),
                "click_through_rate": _rate(row["clicked_searches"], row["searches"]),
            }
            | _outcome_fields(row)
        )
    return rows


def top_searches(*, period: ReportPeriod) -> list[dict]:
    """The most frequent queries, with click-through and deflection rates."""
    rows = [r for r in search_query_figures(period=period) if r["searches"]]
    return sorted(rows, key=lambda r: (-r["searches"], r["query"]))


def content_gaps(*, period: ReportPeriod, limit: int | None = None) -> list[dict]:
    """Queries (per locale) that found nothing, most frequent first: a work queue."""
    rows = [
        r
        for r in search_query_figures(period=period, by_locale=True)
        if r["no_result_searches"]
    ]
    rows.sort(key=lambda r: (-r["no_result_searches"], r["query"], r["locale"]))
    return rows[:limit] if limit else rows


def searches_without_clicks(*, period: ReportPeriod) -> list[dict]:
    """Queries whose results were shown but not clicked, most frequent first."""
    rows = [r for r in search_query_figures(period=period) if r["unclicked_searches"]]
    return sorted(rows, key=lambda r: (-r["unclicked_searches"], r["query"]))


def article_figures(*, period: ReportPeriod) -> list[dict]:
    """Per article: views, clicks, deflections credited to it, tickets after reading."""
    figures = period.figures(group_by=("article",), has_article=True)
    ids = [key[0] for key in figures]
    pages = {
        p.pk: p for p in ArticlePage.objects.filter(pk__in=ids).select_related("locale")
    }
    rows = []
    for (article_id,), row in figures.items():
        page = pages.get(article_id)
        if page is None:
            continue
        deflected = row["deflected_explicit"] + row["deflected_inferred"]
        rows.append(
            {
                "article": page,
                "article_id": article_id,
                "title": page.title,
                "locale": page.locale.language_code,
                "views": row["views"],
                "clicks": row["clicks"],
                "deflections": deflected,
                "deflections_explicit": row["deflected_explicit"],
                "tickets_after_reading": row["views_before_ticket"],
            }
        )
    return rows


def articles_by_deflections(*, period: ReportPeriod) -> list[dict]:
    """Articles credited with the most deflections first."""
    rows = [r for r in article_figures(period=period) if r["deflections"]]
    return sorted(rows, key=lambda r: (-r["deflections"], r["title"]))


def articles_before_tickets(*, period: ReportPeriod) -> list[dict]:
    """Articles most often read by customers who then opened a ticket."""
    rows = [r for r in article_figures(period=period) if r["tickets_after_reading"]]
    return sorted(rows, key=lambda r: (-r["tickets_after_reading"], r["title"]))


def least_helpful_articles(
    *, period: ReportPeriod, comments_per_article: int = 5
) -> list[dict]:
    """Articles with "No" votes in the period, least helpful first (Wilson lower bound).

    Votes carry no channel, so the channel filter does not apply. Reasons are counted
    per article; the newest comments come from `vote_comment_list`.
    """
    votes = Vote.objects.filter(
        updated__gte=day_start(period.day_from),
        updated__lt=day_start(period.day_to + timedelta(days=1)),
    )
    if period.locale:
        votes = votes.filter(article__locale__language_code=period.locale)
    tallies = {
        row["article_id"]: row
        for row in votes.values("article_id").annotate(
            up=Count("pk", filter=Q(helpful=True)),
            down=Count("pk", filter=Q(helpful=False)),
        )
        if row["down"]
    }
    reasons: dict[int, dict[str, int]] = {}
    for row in (
        votes.filter(article_id__in=tallies, helpful=False)
        .exclude(reason=None)
        .values("article_id", "reason")
        .annotate(n=Count("pk"))
    ):
        reasons.setdefault(row["article_id"], {})[row["reason"]] = row["n"]
    comments: dict[int, list[Vote]] = {}
    for vote in vote_comment_list(
        limit=comments_per_article * max(1, len(tallies)),
        article_ids=list(tallies),
        since=day_start(period.day_from),
    ):
        listed = comments.setdefault(vote.article_id, [])
        if len(listed) < comments_per_article:
            listed.append(vote)
    labels = dict(VoteReason.choices)
    pages = ArticlePage.objects.filter(pk__in=tallies).select_related("locale")
    rows = []
    for page in pages:
        tally = VoteTally(up=tallies[page.pk]["up"], down=tallies[page.pk]["down"])
        counted = sorted(reasons.get(page.pk, {}).items(), key=lambda kv: -kv[1])
        rows.append(
            {
                "article": page,
                "article_id": page.pk,
                "title": page.title,
                "locale": page.locale.language_code,
                "up": tally.up,
                "down": tally.down,
                "helpful_share": tally.helpful_share,
                "wilson_lower": tally.wilson_lower,
                "reasons": [(labels.get(r, r), n) for r, n in counted],
                "reasons_text": ", ".join(
                    f"{labels.get(r, r)}: {n}" for r, n in counted
                ),
                "comments": comments.get(page.pk, []),
                "comments_text": " | ".join(
                    v.comment for v in comments.get(page.pk, [])
                ),
            }
        )
    return sorted(rows, key=lambda r: (r["wilson_lower"], -r["down"], r["title"]))


@dataclass(frozen=True)
class DashboardFigures:
    summary: DeflectionSummary
    gaps: list[dict]


def dashboard_figures(*, today: date | None = None) -> DashboardFigures:
    """This week's (Monday to today) deflection figures and top three content gaps."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return DashboardFigures(
        summary=deflection_summary(day_from=monday, day_to=today),
        gaps=content_gaps(period=ReportPeriod(day_from=monday, day_to=today), limit=3),
    )


# --- API key administration ---


def api_key_list() -> QuerySet[ApiKey]:
    """Every API key for the admin: active ones first, newest first."""
    return ApiKey.objects.order_by(
        F("revoked_at").asc(nulls_first=True), "-created", "-pk"
    )
