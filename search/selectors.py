"""Search reads. All project code searches through here, never through a backend."""

from __future__ import annotations

from wagtail.models import Locale

from articles.selectors import article_list_live


def article_search(*, query: str, locale: Locale, limit: int = 20, offset: int = 0):
    """Live, public articles of a locale matching a query, best first."""
    qs = article_list_live(locale=locale).order_by()
    return qs.search(query)[offset : offset + limit]
