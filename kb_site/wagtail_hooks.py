"""Wagtail hooks of the face: click tracking for the search page, which runs no JS."""

from __future__ import annotations

import re
import uuid

from wagtail import hooks

from articles.models import ArticlePage
from feedback.models import Channel, EventType
from feedback.selectors import user_agent_is_bot
from feedback.services import MAX_RANK, event_record_batch
from feedback.visitor import journey_id_ensure

_SEARCH_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# Derived event ids: reloading the article (or going back to it) records nothing new.
_CLICK_NAMESPACE = uuid.UUID("0b8f9a52-5c3e-4d1a-8f7e-2a6c9d1e4b33")


def _rank(value: str) -> int | None:
    if not value.isdigit():
        return None
    rank = int(value)
    return rank if 1 <= rank <= MAX_RANK else None


@hooks.register("before_serve_page")
def search_click_record(page, request, serve_args, serve_kwargs):
    """Records `click` and `view` when an article is opened from a search result link.

    The search page's (and contact page's) result links carry `?sid=<search_id>&rank=N`;
    the events go to the visitor's journey cookie (minted when missing). Crawlers are
    not counted. Returns None: the page is served as usual.
    """
    if request.method != "GET" or not isinstance(page.specific, ArticlePage):
        return None
    search_id = request.GET.get("sid", "")
    rank = _rank(request.GET.get("rank", ""))
    if not _SEARCH_ID.match(search_id) or rank is None:
        return None
    if user_agent_is_bot(user_agent=request.headers.get("User-Agent", "")):
        return None
    journey_id = journey_id_ensure(request)
    base = f"{journey_id}:{search_id}:{rank}:{page.pk}"
    common = {
        "journey_id": journey_id,
        "channel": Channel.WEB.value,
        "search_id": search_id,
        "article_id": page.pk,
    }
    event_record_batch(
        events=[
            {
                "id": str(uuid.uuid5(_CLICK_NAMESPACE, f"click:{base}")),
                "type": EventType.CLICK.value,
                "rank": rank,
                **common,
            },
            {
                "id": str(uuid.uuid5(_CLICK_NAMESPACE, f"view:{base}")),
                "type": EventType.VIEW.value,
                **common,
            },
        ],
        channel_default=Channel.WEB,
    )
    return None
