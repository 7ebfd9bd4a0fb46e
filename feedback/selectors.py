"""Reads of the feedback app."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from articles.models import ArticlePage
from feedback.models import Vote

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


def vote_comment_list(*, limit: int = 200) -> QuerySet[Vote]:
    """The newest votes that came with a comment, for writers to read."""
    return (
        Vote.objects.exclude(comment="")
        .select_related("article")
        .order_by("-updated")[:limit]
    )
