"""A real site for the fault drills: gunicorn over a file SQLite database.

The migrated (empty) test database is copied to a file with SQLite's backup API, so
no drill pays for `migrate`; a small content folder is imported and indexed by the
real management commands. The drills need a database file that other processes can
lock and kill writers of, so they run on SQLite only (PostgreSQL has no such file;
its runs are covered by bench/load.py --database postgres).
"""

import importlib.util
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "kb_bench_livesite", REPO / "bench" / "livesite.py"
)
livesite = importlib.util.module_from_spec(_spec)
sys.modules["kb_bench_livesite"] = livesite
_spec.loader.exec_module(livesite)

# Short enough for a drill to outwait it; long enough to absorb ordinary contention.
BUSY_TIMEOUT = "1.0"

ARTICLES = {
    "reset-your-password": (
        "Reset your password",
        "Choose a new password with a reset link sent by email.",
        "Open the sign-in page and select **Forgot password**.",
    ),
    "turn-on-two-factor": (
        "Turn on two-factor authentication",
        "Protect your account with a verification code.",
        "Open **Settings > Security** and scan the code with your phone.",
    ),
    "refund-an-order": (
        "Refund an order",
        "Give a customer their money back.",
        "Open the order and select **Refund**. Refunds take 5 to 10 days.",
    ),
}


def content_write(root: Path, articles: dict = ARTICLES) -> Path:
    """A small content folder in the importer's format."""
    (root / "en" / "account").mkdir(parents=True, exist_ok=True)
    (root / "en" / "_index.md").write_text(
        "---\ntitle: Help Center\nintro: Answers.\n---\n"
    )
    (root / "en" / "account" / "_category.md").write_text(
        "---\ntitle: Account\ndescription: Your account.\n---\n"
    )
    for slug, (title, summary, body) in articles.items():
        (root / "en" / "account" / f"{slug}.md").write_text(
            textwrap.dedent(
                f"""\
                ---
                title: {title}
                summary: {summary}
                kind: guide
                tags: [account]
                ---
                {body}
                """
            )
        )
    return root


ROOT_ENSURE = """
from wagtail.models import Page
if Page.get_first_root_node() is None:
    Page.add_root(instance=Page(title="Root", slug="root"))
"""


def database_copy(target: Path) -> None:
    """Copies this session's migrated test database into a file."""
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        connection.connection.backup(destination)
    finally:
        destination.close()


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a database file (its WAL included)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@pytest.fixture(scope="session")
def empty_database(django_db_setup, django_db_blocker, tmp_path_factory) -> Path:
    """A migrated database file with no content (a copy of the empty test database)."""
    if connection.vendor != "sqlite":
        pytest.skip(
            "fault drills lock and kill writers of an SQLite database file; "
            "PostgreSQL runs are covered by bench/load.py --database postgres"
        )
    path = tmp_path_factory.mktemp("reliability-db") / "empty.sqlite3"
    with django_db_blocker.unblock():
        database_copy(path)
    # Tests that flush the database (live-server browser tests) also remove the
    # page tree's root, which migrations created; put it back.
    fixer = livesite.LiveSite(path.parent / "fixer")
    sqlite_copy(path, fixer.data_dir / "db.sqlite3")
    fixer.manage("shell", "--no-imports", "-c", ROOT_ENSURE)
    sqlite_copy(fixer.data_dir / "db.sqlite3", path)
    return path


def site_make(data_dir: Path, empty_database: Path, **kwargs):
    """A LiveSite over a fresh copy of the empty database (not started)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    sqlite_copy(empty_database, data_dir / "db.sqlite3")
    env = {"KB_SQLITE_BUSY_TIMEOUT": BUSY_TIMEOUT, **kwargs.pop("env", {})}
    return livesite.LiveSite(data_dir, env=env, **kwargs)


@pytest.fixture(scope="module")
def site(empty_database, tmp_path_factory):
    """A running site with the small content imported and indexed."""
    root = tmp_path_factory.mktemp("reliability-site")
    live = site_make(root / "data", empty_database, workers=2)
    live.manage("import_content", str(content_write(root / "content")))
    live.manage("update_index")
    live.start()
    yield live
    live.stop()
