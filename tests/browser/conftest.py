"""Playwright for Python driving Debian's Chromium (never Playwright's own browsers)."""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from wagtail.models import Locale, Page

from feedback.services import api_key_create

CHROMIUM = Path(os.environ.get("KB_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The part of the demo content each test imports: enough for every flow in the
# locales the tests use, without importing (and indexing) the whole demo help center
# for each test on a 2-core machine. Links out of that part are cut (plain text).
KEEP_LOCALES = {"en", "ru", "zh-hant"}
KEEP_CATEGORIES = {"account-and-sign-in"}
_ARTICLE_LINK = re.compile(r"\[([^\]]*)\]\(article:[^)]*\)")
_RELATED = re.compile(r"^related:.*\n", re.MULTILINE)


def demo_content_trim(folder: Path) -> None:
    """Keeps KEEP_LOCALES × KEEP_CATEGORIES of a copy of the demo content."""
    for locale_dir in list(folder.iterdir()):
        if locale_dir.name not in KEEP_LOCALES:
            shutil.rmtree(locale_dir)
            continue
        for category_dir in locale_dir.iterdir():
            if category_dir.is_dir() and category_dir.name not in KEEP_CATEGORIES:
                shutil.rmtree(category_dir)
    for path in folder.rglob("*.md"):
        text = path.read_text()
        path.write_text(_RELATED.sub("", _ARTICLE_LINK.sub(r"\1", text)))


# Playwright's sync API keeps an asyncio loop in this thread; the test's own ORM
# calls are plain synchronous code, so Django's async-safety guard is lifted here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM}: run `make test`, which installs "
            "Debian's chromium package, or `apt-get install chromium` (sudo when not "
            "root). Set KB_CHROMIUM to use a Chromium elsewhere."
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed: run `pip install -e '.[dev]'`.",
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


# Headless Chromium says "HeadlessChrome", which the vote counter rightly takes for a
# bot; the tests play a person with an ordinary desktop browser.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


@pytest.fixture
def page(browser):
    context = browser.new_context(
        viewport={"width": 1024, "height": 760}, user_agent=USER_AGENT
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def wagtail_root_ensure() -> None:
    """The tree root and default locale that Wagtail's migrations create.

    An earlier transactional test in the same run flushes the database, and pytest-django
    does not always restore the serialized migration data (its `serialized_rollback`
    finds no serialized contents on the connection these tests use), so a browser test
    may start from empty tables."""
    if Page.get_first_root_node() is None:
        locale, _ = Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
        Page.add_root(instance=Page(title="Root", slug="root", locale=locale))


@pytest.fixture
def help_center_live(transactional_db, demo_content, live_server, settings):
    """The live server with (part of) the demo content imported and indexed, and a
    widget key for /widget-demo/."""
    demo_content_trim(demo_content)
    wagtail_root_ensure()
    with open(os.devnull, "w") as devnull:
        call_command("import_content", str(demo_content), stdout=devnull)
        call_command("update_index", stdout=devnull)
    settings.KB_DEMO_WIDGET_KEY = api_key_create(name="Demo", scope="widget")[1]
    return live_server


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))
