"""The API throttles' cache: files under KB_DATA_DIR, shared by all local workers."""

from __future__ import annotations

import random

from django.core.cache.backends.filebased import FileBasedCache

# Django's file cache lists its whole folder on every write to decide whether to
# cull: about 25 ms per request once a few thousand clients have counters. Culling
# on one write in CULL_CHANCE keeps the folder bounded at a fraction of the cost.
CULL_CHANCE = 100


class ThrottleFileCache(FileBasedCache):
    """FileBasedCache that culls expired and surplus entries on a sample of writes."""

    def _cull(self):
        if random.randrange(CULL_CHANCE) == 0:  # noqa: S311 (not security-relevant)
            super()._cull()
