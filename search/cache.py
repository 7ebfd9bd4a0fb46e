"""A per-process cache of search results, invalidated across processes.

Help-center traffic repeats its top questions, so `article_search` and
`article_suggest` results are kept in a small LRU in each server process, keyed by
all their arguments and by a *change token*: the search backend's own token (the
Whoosh backend rewrites one after every index write, delete or rebuild swap) plus a
stamp file this module rewrites when something else that shapes results changes
(pages, synonyms, promotions, view restrictions, sites, locales). Reading the token
costs two small file reads per search, so a change made in one gunicorn worker is
seen at once by all the others; stale entries simply stop being asked for.

Small lookups every search makes (`cached_lookup`) are kept the same way, apart.

Only the pure result is cached: the `search_id` and event recording happen per
request in the callers, on a copy of the cached result.
"""

import dataclasses
import functools
import logging
import os
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from wagtail.contrib.search_promotions.models import Query, SearchPromotion
from wagtail.models import Locale, Page, PageViewRestriction, Site
from wagtail.search.backends import get_search_backend

from search.models import Synonym

logger = logging.getLogger("kb.search")

STAMP_FILE = "search-cache.stamp"


class ResultCache:
    """A thread-safe LRU of results; values are copied on the way out."""

    def __init__(self, size: int):
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            try:
                value = self._entries[key]
            except KeyError:
                self.misses += 1
                return _MISSING
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key, value):
        if self.size <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self):
        return len(self._entries)


_MISSING = object()
DEFAULT_SIZE = 1024
results = ResultCache(DEFAULT_SIZE)
# The small lookups every search makes (its locale, synonyms, promotions, the base
# query of visible articles): kept apart from results, so that neither evicts the
# other and the result cache's hit counts stay about results.
lookups = ResultCache(256)


def _stamp_path() -> Path:
    return Path(
        getattr(settings, "KB_SEARCH_CACHE_STAMP", None)
        or Path(settings.KB_DATA_DIR) / STAMP_FILE
    )


def change_token(backend_name: str = "default") -> str:
    """What cached results are valid for; changes when the index or tuning changes."""
    backend = get_search_backend(backend_name)
    backend_token = getattr(backend, "change_token", None)
    try:
        stamp = _stamp_path().read_text()
    except FileNotFoundError:
        stamp = ""
    return f"{stamp}|{backend_token() if backend_token else type(backend).__name__}"


def invalidate():
    """Makes every process's cached results stale (synonyms, promotions, pages...)."""
    path = _stamp_path()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(uuid.uuid4().hex)
        os.replace(temporary, path)
    except OSError:
        # Better to serve stale results for a while than to fail the admin's save.
        logger.exception("Could not invalidate the search result cache at %s", path)


def _argument_key(value):
    if isinstance(value, Locale):
        return ("locale", value.pk, value.language_code)
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    return (type(value).__name__, repr(value))


def _copy(value):
    # Callers decorate what they get (the API sets search_id): never hand out the
    # cached object itself.
    if isinstance(value, list):
        return list(value)
    if dataclasses.is_dataclass(value):
        return dataclasses.replace(
            value,
            **{
                field.name: list(getattr(value, field.name))
                for field in dataclasses.fields(value)
                if isinstance(getattr(value, field.name), list)
            },
        )
    return value


def cached_result(func):
    """Caches a keyword-only selector's return value per arguments and change token,
    in the result cache (KB_SEARCH_CACHE_SIZE entries; none when it is 0)."""
    return _cached(func, results, sized=True)


def cached_lookup(func):
    """Like `cached_result`, for a small lookup a search makes each time it runs."""
    return _cached(func, lookups, sized=False)


def _cached(func, store: ResultCache, *, sized: bool):
    @functools.wraps(func)
    def wrapper(**kwargs):
        if sized:
            store.size = getattr(settings, "KB_SEARCH_CACHE_SIZE", DEFAULT_SIZE)
        if store.size <= 0:
            return func(**kwargs)
        # Read the token before computing: a change made meanwhile then leaves this
        # result under the old token, where nobody asks for it.
        backend_name = kwargs.get("backend")
        key = (
            func.__qualname__,
            change_token(backend_name if isinstance(backend_name, str) else "default"),
            tuple(sorted((name, _argument_key(v)) for name, v in kwargs.items())),
        )
        value = store.get(key)
        if value is _MISSING:
            value = func(**kwargs)
            store.put(key, value)
        return _copy(value)

    wrapper.uncached = func
    return wrapper


# --- Signal receivers --------------------------------------------------------------


def _changed(sender, instance=None, **kwargs):
    """Invalidates cached results when something that shapes them changes."""
    if kwargs.get("raw"):
        return
    if sender is Query and kwargs.get("created"):
        return  # a new, empty query (Query.get) promotes nothing yet
    invalidate()
    # Again once the transaction commits: a search in another process between the
    # first invalidation and the commit may have cached what it saw before.
    transaction.on_commit(invalidate)


def _page_changed(sender, instance=None, **kwargs):
    """Pages: any subclass, saved (publish, unpublish, move) or deleted."""
    if isinstance(instance, Page):
        _changed(sender, instance, **kwargs)


_TUNING_MODELS = (Synonym, Query, SearchPromotion, PageViewRestriction, Site, Locale)
for _model in _TUNING_MODELS:
    for _signal in (post_save, post_delete):
        _signal.connect(
            _changed,
            sender=_model,
            dispatch_uid=f"kb_search_cache_{_signal is post_save}_{_model.__name__}",
        )
# Page subclasses send their own signals, so this one listens to every sender.
post_save.connect(_page_changed, dispatch_uid="kb_search_cache_page_saved")
post_delete.connect(_page_changed, dispatch_uid="kb_search_cache_page_deleted")
