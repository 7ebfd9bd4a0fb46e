"""The embeddable widget in a real Chromium, on /widget-demo/ against a live server."""

import http.server
import threading
import time

import pytest
from django.core import mail
from django.utils import timezone

from feedback.models import Event, Ticket
from feedback.services import Outcome, api_key_create, journey_outcome
from tests.browser.conftest import USER_AGENT, screenshot

# Each test imports content on a live server; the serialized rollback brings back
# what migrations created (the root page, the default locale) after the flush.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def wait_for_event(journey_id: str, event_type: str, timeout: float = 10.0) -> Event:
    """Events are posted in the background: poll the database until one arrives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = Event.objects.filter(journey_id=journey_id, type=event_type).first()
        if event is not None:
            return event
        time.sleep(0.1)
    raise AssertionError(f"No {event_type!r} event for journey {journey_id}.")


def outcome_of(journey_id: str):
    return journey_outcome(
        events=Event.objects.filter(journey_id=journey_id), now=timezone.now()
    )


def open_widget(page, url: str, launcher_name: str = "Help"):
    page.goto(url)
    page.get_by_role("button", name=launcher_name, exact=True).click()
    return page.get_by_role("dialog")


def test_typing_a_question_suggests_articles_and_yes_is_a_deflection(
    page, help_center_live
):
    panel = open_widget(page, help_center_live.url + "/widget-demo/")
    question = panel.get_by_role("searchbox", name="Type your question")
    question.press_sequentially("reset my password", delay=30)
    suggestion = panel.get_by_role("button", name="Reset your password")
    suggestion.wait_for()
    screenshot(page, "widget-suggestions.png")
    suggestion.click()

    article = panel.get_by_role("article")
    article.get_by_role("heading", name="Reset your password").wait_for()
    assert "Did this answer your question?" in article.inner_text()
    screenshot(page, "widget-article.png")
    article.get_by_role("button", name="Yes").click()
    panel.get_by_text("Glad it helped").wait_for()

    journey_id = page.evaluate("KB.journeyId")
    wait_for_event(journey_id, "resolved")
    stored = Event.objects.filter(journey_id=journey_id)
    assert {"search", "click", "view", "resolved"} <= set(
        stored.values_list("type", flat=True)
    )
    assert set(stored.values_list("channel", flat=True)) == {"widget"}
    click = stored.get(type="click")
    assert click.rank == 1 and click.search_id
    result = outcome_of(journey_id)
    assert result.outcome == Outcome.DEFLECTED and result.explicit


def test_no_asks_why_and_contact_support_makes_a_ticketed_journey(
    page, help_center_live, settings
):
    settings.KB_CONTACT_EMAIL_TO = ["support@example.com"]
    panel = open_widget(page, help_center_live.url + "/widget-demo/")
    panel.get_by_role("searchbox").press_sequentially("password", delay=30)
    panel.locator(".result").first.click()
    article = panel.get_by_role("article")
    article.get_by_role("button", name="No").click()
    article.get_by_role("button", name="It didn't answer my question").click()
    article.get_by_role("button", name="Contact support").click()

    journey_id = page.evaluate("KB.journeyId")
    rejected = wait_for_event(journey_id, "rejected")
    assert rejected.reason == "didnt_answer" and rejected.article_id
    wait_for_event(journey_id, "escalated")
    assert outcome_of(journey_id).outcome == Outcome.TICKETED

    panel.get_by_label("Subject").fill("Password reset mail never arrives")
    panel.get_by_label("Describe your problem").fill("I asked twice, nothing came.")
    panel.get_by_label("Your email").fill("customer@example.com")
    screenshot(page, "widget-contact.png")
    panel.get_by_role("button", name="Send").click()
    panel.get_by_text("Your request has been sent").wait_for()
    ticket = Ticket.objects.get(journey_id=journey_id)
    assert ticket.channel == "widget"
    wait_for_event(journey_id, "ticket")
    assert "I asked twice, nothing came." in mail.outbox[-1].body


@pytest.mark.parametrize(
    ("locale", "launcher", "placeholder", "query"),
    [
        ("zh-hant", "說明", "輸入您的問題", "密碼"),
        ("ru", "Помощь", "Введите ваш вопрос", "пароль"),
    ],
)
def test_widget_speaks_the_pages_language(
    page, help_center_live, locale, launcher, placeholder, query
):
    panel = open_widget(
        page, f"{help_center_live.url}/widget-demo/?locale={locale}", launcher
    )
    question = panel.get_by_role("searchbox", name=placeholder)
    assert question.get_attribute("placeholder") == placeholder
    question.press_sequentially(query, delay=50)
    panel.locator(".result").first.wait_for()
    titles = panel.locator(".result b").all_inner_texts()
    assert titles and all(query.lower() in t.lower() for t in titles[:1]), titles
    screenshot(page, f"widget-{locale}.png")
    journey_id = page.evaluate("KB.journeyId")
    assert Event.objects.filter(
        journey_id=journey_id, type="search", locale=locale
    ).exists()


def test_keyboard_and_a_phone_sized_screen(browser, help_center_live):
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, user_agent=USER_AGENT
    )
    page = context.new_page()
    try:
        page.goto(help_center_live.url + "/widget-demo/")
        launcher = page.get_by_role("button", name="Help", exact=True)
        launcher.focus()
        page.keyboard.press("Enter")
        panel = page.get_by_role("dialog")
        box = panel.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        page.keyboard.type("sign in", delay=30)
        panel.locator(".result").first.wait_for()
        screenshot(page, "widget-mobile.png")
        # Tab stays inside the panel however far it goes.
        for _ in range(25):
            page.keyboard.press("Tab")
            inside = page.evaluate(
                "document.querySelector('[data-kb-widget]').shadowRoot"
                ".activeElement?.closest('.panel') !== null"
            )
            assert inside
        page.keyboard.press("Escape")
        assert panel.is_hidden()
        assert (
            page.evaluate(
                "document.querySelector('[data-kb-widget]').shadowRoot.activeElement"
                ".getAttribute('aria-expanded')"
            )
            == "false"
        )
    finally:
        context.close()


def test_host_page_javascript_api(page, help_center_live):
    page.goto(help_center_live.url + "/widget-demo/")
    page.wait_for_function("window.KB && window.KB.version")
    page.evaluate("KB.search('two-factor')")
    panel = page.get_by_role("dialog")
    panel.locator(".result").first.wait_for()
    article_id = int(panel.locator(".result").first.get_attribute("data-article-id"))
    page.evaluate("KB.close()")
    assert panel.is_hidden()
    page.evaluate(f"KB.openArticle({article_id})")
    panel.get_by_role("article").wait_for()
    journey_id = page.evaluate("KB.journeyId")
    view = wait_for_event(journey_id, "view")
    assert view.article_id == article_id


class _ShopPages(http.server.BaseHTTPRequestHandler):
    """A customer's website on another origin: /<name> embeds the widget with a key."""

    pages: dict[str, str] = {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = self.pages.get(self.path, "").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def shop_site():
    # A real loopback server, not a Playwright route: Chromium lets only pages that
    # are themselves on loopback load scripts from the (loopback) help center.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ShopPages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _ShopPages.pages
    server.shutdown()
    server.server_close()


def test_on_another_site_the_key_works_only_from_its_allowed_origin(
    page, help_center_live, shop_site
):
    """The help center at localhost, a customer's site at 127.0.0.1: cross-origin."""
    shop, pages = shop_site
    allowed = api_key_create(name="Shop", scope="widget", allowed_origins=[shop])[1]
    foreign = api_key_create(
        name="Elsewhere", scope="widget", allowed_origins=["https://elsewhere.example"]
    )[1]
    src = help_center_live.url + "/static/kb/widget.js"
    for path, key in (("/allowed", allowed), ("/foreign", foreign)):
        pages[path] = (
            '<!DOCTYPE html><html lang="en"><head><title>Shop</title></head><body>'
            f'<script src="{src}" data-site-key="{key}" async></script></body></html>'
        )
        page.goto(shop + path)
        page.wait_for_function("window.KB && window.KB.version")
        page.evaluate("KB.search('password')")
        panel = page.get_by_role("dialog")
        panel.locator(".result").first.click()  # CORS lets the shop read the API
        panel.get_by_role("article").get_by_role("button", name="Yes").click()
        panel.get_by_text("Glad it helped").wait_for()
    journey_id = page.evaluate("KB.journeyId")  # one tab, one journey on the shop
    assert Event.objects.filter(journey_id=journey_id, type="search").count() == 2
    wait_for_event(journey_id, "resolved")
    time.sleep(1)  # the foreign key's events had as long to arrive, and didn't
    # Only the allowed key's click, view and resolved were stored.
    assert Event.objects.filter(journey_id=journey_id, type="resolved").count() == 1
    assert Event.objects.filter(journey_id=journey_id, type="view").count() == 1
