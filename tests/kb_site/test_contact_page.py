"""/<locale>/contact/: search first, then the form; forwarded, then recorded."""

import re

import pytest
from django.core import mail
from django.test import Client

from feedback.models import Event, Ticket
from feedback.services import email_hash_compute
from tests import factories
from tests.webhook_server import start_webhook_server

UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
JOURNEY = "journey-aaaaaaaaaaaaaaaa"


@pytest.fixture
def browser():
    client = Client(HTTP_USER_AGENT=UA)
    client.cookies["kb_journey"] = JOURNEY
    return client


@pytest.fixture
def article(category):
    return factories.article(
        category,
        title="Reset your password",
        slug="reset-your-password",
        body="Open the sign-in page and select Forgot password.",
    )


@pytest.fixture
def webhook(settings):
    state, server = start_webhook_server()
    settings.KB_CONTACT_WEBHOOK_URL = state.url
    yield state
    server.release.set()
    server.shutdown()
    server.server_close()


def form_data(**overrides):
    return {
        "subject": "Forgot my password",
        "message": "The reset e-mail never arrives.",
        "email": "ada@example.com",
        "search_id": "",
        "website": "",
        **overrides,
    }


@pytest.mark.django_db
def test_the_first_step_asks_only_for_a_subject(browser, home):
    html = browser.get("/en/contact/").content.decode()
    assert 'name="subject"' in html
    assert 'name="message"' not in html and 'name="email"' not in html


@pytest.mark.django_db
def test_the_subject_is_searched_and_matching_articles_come_before_the_form(
    browser, article
):
    response = browser.get("/en/contact/", {"subject": "password"})
    html = response.content.decode()
    search = Event.objects.get(type="search")
    assert (search.journey_id, search.query, search.result_ids) == (
        JOURNEY,
        "password",
        [article.pk],
    )
    link = f'href="{article.url}?sid={search.search_id}&amp;rank=1"'
    assert link in html
    assert html.index(link) < html.index('name="message"')
    assert f'name="search_id" value="{search.search_id}"' in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.django_db
def test_without_required_search_the_whole_form_shows_at_once(browser, home, settings):
    settings.KB_CONTACT_REQUIRE_SEARCH = False
    html = browser.get("/en/contact/").content.decode()
    assert 'name="message"' in html and 'name="email"' in html


@pytest.mark.django_db
def test_a_sent_request_reaches_the_webhook_and_makes_the_journey_ticketed(
    browser, article, webhook
):
    browser.get("/en/contact/", {"subject": "password"})
    search_id = Event.objects.get(type="search").search_id
    response = browser.post("/en/contact/", form_data(search_id=search_id))
    assert response.status_code == 302
    assert response["Location"] == "/en/contact/thanks/"
    thanks = browser.get(response["Location"]).content.decode()
    assert "Thank you, your message was sent" in thanks
    [received] = webhook.requests
    assert received["json"]["message"] == "The reset e-mail never arrives."
    assert received["json"]["journey_id"] == JOURNEY
    ticket = Ticket.objects.get()
    assert (ticket.source, ticket.channel, ticket.journey_id, ticket.search_id) == (
        "contact_form",
        "web",
        JOURNEY,
        search_id,
    )
    assert ticket.email_hash == email_hash_compute(email="ada@example.com")
    types = set(Event.objects.filter(journey_id=JOURNEY).values_list("type", flat=True))
    assert types == {"search", "ticket", "escalated"}


@pytest.mark.django_db
def test_without_a_journey_cookie_one_is_minted_for_the_ticket(home, webhook):
    client = Client(HTTP_USER_AGENT=UA)
    response = client.post("/en/contact/", form_data())
    assert response.status_code == 302
    journey = response.cookies["kb_journey"].value
    assert Ticket.objects.get().journey_id == journey
    assert Event.objects.filter(journey_id=journey, type="ticket").exists()


@pytest.mark.django_db
def test_the_request_can_be_emailed_instead(browser, home, settings):
    settings.KB_CONTACT_WEBHOOK_URL = ""
    settings.KB_CONTACT_EMAIL_TO = ["support@example.com"]
    assert browser.post("/en/contact/", form_data()).status_code == 302
    [message] = mail.outbox
    assert message.to == ["support@example.com"]
    assert "The reset e-mail never arrives." in message.body


@pytest.mark.django_db
def test_a_failed_forward_shows_a_clear_error_keeps_the_text_and_records_nothing(
    browser, home, webhook
):
    webhook.status = 502
    response = browser.post(
        "/en/contact/", form_data(message="Steps: <script>alert(1)</script>")
    )
    assert response.status_code == 503
    html = response.content.decode()
    assert "could not be delivered" in html and "nothing was sent" in html
    assert "Steps: &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert not Ticket.objects.exists() and not Event.objects.exists()


@pytest.mark.django_db
def test_an_unconfigured_form_says_so(browser, home, settings):
    settings.KB_CONTACT_WEBHOOK_URL = ""
    settings.KB_CONTACT_EMAIL_TO = []
    response = browser.post("/en/contact/", form_data())
    assert response.status_code == 503
    assert "not set up" in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "nope"), ("message", ""), ("message", "x" * 5001), ("subject", "")],
)
def test_invalid_fields_are_shown_again_with_errors(
    browser, home, webhook, field, value
):
    response = browser.post("/en/contact/", form_data(**{field: value}))
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.content.decode()
    assert not webhook.requests and not Ticket.objects.exists()


@pytest.mark.django_db
def test_the_honeypot_pretends_success_and_sends_nothing(browser, home, webhook):
    response = browser.post("/en/contact/", form_data(website="http://spam.example"))
    assert response.status_code == 302
    assert not webhook.requests and not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_post_without_csrf_token_is_refused(home, webhook):
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=UA)
    response = client.post("/en/contact/", form_data())
    assert response.status_code == 403
    assert not webhook.requests and not Ticket.objects.exists()


@pytest.mark.django_db
def test_too_many_requests_are_rate_limited(browser, home, webhook, settings):
    settings.KB_CONTACT_RATE_LIMIT_VISITOR = 2
    browser.cookies["kb_visitor"] = "visitor-aaaaaaaaaaaaaaaa"
    assert browser.post("/en/contact/", form_data()).status_code == 302
    assert browser.post("/en/contact/", form_data()).status_code == 302
    response = browser.post("/en/contact/", form_data())
    assert response.status_code == 429 and response["Retry-After"]
    assert Ticket.objects.count() == 2 and len(webhook.requests) == 2


@pytest.mark.django_db
def test_what_the_visitor_typed_is_escaped(browser, home):
    html = browser.get(
        "/en/contact/", {"subject": '"><script>alert(1)</script>'}
    ).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_the_search_page_offers_contact_support_when_nothing_matches(browser, home):
    html = browser.get("/en/search/", {"q": "zebra accounting"}).content.decode()
    assert 'href="/en/contact/?subject=zebra%20accounting"' in html
    assert "Contact support" in html


@pytest.mark.django_db
def test_the_contact_page_works_in_other_locales(browser, db):
    factories.help_center("sv")
    response = browser.get("/sv/contact/", {"subject": "lösenord"})
    assert response.status_code == 200
    assert 'name="message"' in response.content.decode()


@pytest.mark.django_db
def test_as_you_type_suggestions_come_from_a_static_script_only(browser, home):
    html = browser.get("/en/contact/").content.decode()
    assert re.search(r'<script src="/static/kb/contact\.js[^"]*" defer></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert 'id="contact-live-suggestions"' in html


@pytest.mark.django_db
def test_a_no_vote_offers_contact_support_about_the_article(browser, article):
    browser.cookies["kb_visitor"] = "visitor-aaaaaaaaaaaaaaaa"
    browser.post("/feedback/vote/", {"article": article.pk, "helpful": "no"})
    html = browser.get(article.url).content.decode()
    link = (
        f'href="/en/contact/?subject=Reset%20your%20password&amp;article={article.pk}"'
    )
    assert link in html
    contact = browser.get(
        "/en/contact/", {"subject": article.title, "article": article.pk}
    )
    assert f'name="article" value="{article.pk}"' in contact.content.decode()
