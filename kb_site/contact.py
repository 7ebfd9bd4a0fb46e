"""The contact page, /<locale>/contact/: the classic deflection form.

Step 1 asks for a subject (a GET form); step 2 shows the articles that match it,
then the message form (a POST with CSRF). Both work without JavaScript. With
KB_CONTACT_REQUIRE_SEARCH off, the whole form shows from the start.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from articles.models import ArticlePage
from articles.selectors import locale_get
from feedback.forms import ContactForm
from feedback.forwarding import ContactForwardError, ContactNotConfigured
from feedback.models import Channel, TicketSource
from feedback.ratelimit import WINDOW_SECONDS, contact_rate_limit_hit
from feedback.selectors import article_get_votable, user_agent_is_bot
from feedback.services import TICKET_SUBJECT_MAX, contact_request_submit, search_record
from feedback.visitor import journey_id_ensure, visitor_id_ensure
from search.selectors import SearchQueryError, article_search

SUGGESTIONS = 5


def _suggestions(request: HttpRequest, *, subject: str, locale) -> tuple[list, str]:
    """The articles matching the subject, and the search_id their links carry."""
    if not subject or locale is None:
        return [], ""
    try:
        result = article_search(query=subject, locale=locale, limit=SUGGESTIONS)
    except SearchQueryError:
        return [], ""
    if user_agent_is_bot(user_agent=request.headers.get("User-Agent", "")):
        return result.hits, ""
    search_id = search_record(
        query=result.query,
        locale=locale.language_code,
        result_ids=[h.article.pk for h in result.hits],
        result_count=result.count,
        channel=Channel.WEB,
        journey_id=journey_id_ensure(request),
    )
    return result.hits, search_id


def _article_from(value) -> ArticlePage | None:
    try:
        return article_get_votable(article_id=int(value)) if value else None
    except (TypeError, ValueError):
        return None


def _render(request, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("subject_max", TICKET_SUBJECT_MAX)
    return render(request, "kb_site/contact.html", context, status=status)


@never_cache
def contact_page(request: HttpRequest) -> HttpResponse:
    """Search first, then the form; a valid request is forwarded to support."""
    locale = locale_get(language_code=get_language())
    if request.method == "POST":
        return _contact_post(request, locale=locale)
    subject = " ".join(request.GET.get("subject", "").split())[:TICKET_SUBJECT_MAX]
    article = _article_from(request.GET.get("article"))
    hits, search_id = _suggestions(request, subject=subject, locale=locale)
    form = ContactForm(
        initial={
            "subject": subject,
            "search_id": search_id,
            "article": article.pk if article else None,
        }
    )
    return _render(
        request,
        {
            "subject": subject,
            "hits": hits,
            "search_id": search_id,
            "form": form,
            "show_form": bool(subject) or not settings.KB_CONTACT_REQUIRE_SEARCH,
        },
    )


def _contact_post(request: HttpRequest, *, locale) -> HttpResponse:
    form = ContactForm(request.POST)
    context = {"form": form, "show_form": True, "hits": []}
    if not form.is_valid():
        context["subject"] = request.POST.get("subject", "")[:TICKET_SUBJECT_MAX]
        return _render(request, context, status=400)
    data = form.cleaned_data
    context["subject"] = data["subject"]
    thanks = HttpResponseRedirect(reverse("contact_thanks"))
    if data["website"]:
        # A bot filled the hidden field: it sees success, support sees nothing.
        return thanks
    if contact_rate_limit_hit(
        visitor_id=visitor_id_ensure(request), ip=request.META.get("REMOTE_ADDR", "")
    ):
        context["error"] = _(
            "You have sent several requests in a short time. Please wait a while "
            "before sending another one."
        )
        response = _render(request, context, status=429)
        response["Retry-After"] = str(WINDOW_SECONDS)
        return response
    try:
        contact_request_submit(
            subject=data["subject"],
            message=data["message"],
            email=data["email"],
            source=TicketSource.CONTACT_FORM,
            channel=Channel.WEB,
            locale=locale.language_code if locale else get_language(),
            journey_id=journey_id_ensure(request),
            search_id=data["search_id"],
            article=_article_from(data["article"]),
            escalate=True,
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return _render(request, context, status=400)
    except ContactNotConfigured:
        context["error"] = _(
            "Sending messages from this page is not set up yet. Nothing was sent."
        )
        return _render(request, context, status=503)
    except ContactForwardError:
        context["error"] = _(
            "Sorry, your message could not be delivered to our support team just "
            "now, and nothing was sent. Please try again in a few minutes: what "
            "you typed is still here."
        )
        return _render(request, context, status=503)
    return thanks


def contact_thanks(request: HttpRequest) -> HttpResponse:
    """After a request was forwarded: what happens next."""
    return render(request, "kb_site/contact_thanks.html")
