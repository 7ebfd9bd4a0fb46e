import shutil
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests import factories

REPO = Path(__file__).resolve().parent.parent
DEMO_CONTENT = REPO / "content"


@pytest.fixture(autouse=True)
def _search_index(settings, tmp_path):
    """Every test gets its own empty Whoosh index: the database rolls back, files don't."""
    from search.backends.whoosh import reset_process_state

    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {
            "BACKEND": "search.backends.whoosh",
            "PATH": tmp_path / "search-index",
        }
    }
    reset_process_state()
    yield
    reset_process_state()


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def home(db):
    return factories.help_center("en")


@pytest.fixture
def category(home):
    return factories.category(
        home, title="Account and sign-in", slug="account-and-sign-in"
    )


@pytest.fixture
def demo_content(tmp_path) -> Path:
    """A writable copy of the demo content folder."""
    target = tmp_path / "content"
    shutil.copytree(DEMO_CONTENT, target)
    return target


@pytest.fixture
def site_afternoon(settings):
    """Put the site in a time zone where it is now between 12:00 and 13:59.

    Reports count days in the site's time zone, so a test that records events
    "a few minutes ago" and expects them under today would fail just after
    midnight; in the afternoon, the last twelve hours and the next ten are today.
    """
    offset = 12 - timezone.now().hour  # timezone.now() is in UTC: -11..+12 hours
    # Etc/GMT names invert the sign: Etc/GMT-12 is UTC+12.
    settings.TIME_ZONE = "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"
    return settings.TIME_ZONE
