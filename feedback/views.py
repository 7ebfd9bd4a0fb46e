"""The site's vote form: a plain POST that works without JavaScript."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from articles.models import ArticlePage
from feedback.forms import VoteForm
from feedback.models import COMMENT_MAX_LENGTH, VoteReason
from feedback.ratelimit import WINDOW_SECONDS, vote_rate_limit_hit
from feedback.selectors import (
    article_get_votable,
    user_agent_is_bot,
    vote_comment_list,
    vote_get,
)
from feedback.services import agent_link_open, vote_record
from feedback.visitor import journey_id_from_request, visitor_id_from_request

# Sent by feedback/static/feedback/vote.js: answer with the section, not a redirect.
FRAGMENT_HEADER = "X-KB-Fragment"


def helpfulness_context(
    *, request, article: ArticlePage, visitor_id: str | None
) -> dict:
    """What feedback/vote_form.html needs: the visitor's vote, if any, and choices."""
    return {
        "request": request,
        "csrf_token": get_token(request),
        "article": article,
        "vote": vote_get(article=article, visitor_id=visitor_id),
        "reasons": VoteReason.choices,
        "comment_max_length": COMMENT_MAX_LENGTH,
    }


def _back(request, article: ArticlePage, visitor_id: str | None):
    """The article's vote section: as a fragment for vote.js, else a redirect to it."""
    if request.headers.get(FRAGMENT_HEADER):
        context = helpfulness_context(
            request=request, article=article, visitor_id=visitor_id
        )
        return render(request, "feedback/vote_form.html", context)
    return HttpResponseRedirect(f"{article.url}#helpfulness")


@require_POST
def vote_create(request):
    """Records the visitor's vote and goes back to the article's vote section."""
    form = VoteForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid vote.")
    article = article_get_votable(article_id=form.cleaned_data["article"])
    if article is None:
        return HttpResponseBadRequest("Unknown article.")
    visitor_id = visitor_id_from_request(request)
    # Crawlers and cookie-less clients are sent back without counting.
    if visitor_id is None or user_agent_is_bot(
        user_agent=request.headers.get("User-Agent", "")
    ):
        return _back(request, article, visitor_id)
    if vote_rate_limit_hit(
        visitor_id=visitor_id, ip=request.META.get("REMOTE_ADDR", "")
    ):
        response = HttpResponse("Too many votes; try again later.", status=429)
        response["Retry-After"] = str(WINDOW_SECONDS)
        return response
    data = form.cleaned_data
    try:
        vote_record(
            article=article,
            helpful=data["helpful"],
            visitor_id=visitor_id,
            reason=(data["reason"] or None) if not data["helpful"] else None,
            comment=data["comment"],
            journey_id=journey_id_from_request(request),
        )
    except ValidationError:
        return HttpResponseBadRequest("Invalid vote.")
    return _back(request, article, visitor_id)


class VoteCommentIndexView(WagtailAdminTemplateMixin, TemplateView):
    """Admin: the newest vote comments, as plain text, for writers."""

    template_name = "feedback/admin/vote_comments.html"
    page_title = _("Vote comments")
    header_icon = "comment"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["votes"] = vote_comment_list()
        return context


@never_cache
@require_GET
def agent_link_follow(request, token: str):
    """/l/<token>: counts the customer's open of an agent's link and redirects to the
    article; link previews and crawlers are redirected without counting."""
    link = agent_link_open(
        token=token,
        journey_id=journey_id_from_request(request),
        count=not user_agent_is_bot(user_agent=request.headers.get("User-Agent", "")),
    )
    if link is None:
        raise Http404("This link is unknown or its article is no longer published.")
    return HttpResponseRedirect(link.article.get_url(request=request))
