"""Views that combine apps: the search page. Article pages are served by Wagtail."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language

from articles.models import ArticleKind
from articles.selectors import help_center_for_locale, locale_get
from feedback.services import search_record
from feedback.visitor import journey_id_ensure
from search.selectors import SearchQueryError, article_list_useful, article_search

PAGE_SIZE = 10


def search_page(request: HttpRequest) -> HttpResponse:
    """The shareable results page, /<locale>/search/?q=…, which works without JavaScript."""
    locale = locale_get(language_code=get_language())
    query = request.GET.get("q", "")
    kind = (
        request.GET.get("kind")
        if request.GET.get("kind") in ArticleKind.values
        else None
    )
    category = request.GET.get("category") or None
    try:
        page_number = max(1, min(100, int(request.GET.get("page", "1"))))
    except ValueError:
        page_number = 1
    context = {
        "query": query.strip(),
        "kind": kind,
        "category": category,
        "kinds": ArticleKind.choices,
        "home": help_center_for_locale(locale=locale) if locale else None,
    }
    if query.strip() and locale is not None:
        try:
            result = article_search(
                query=query,
                locale=locale,
                limit=PAGE_SIZE,
                offset=(page_number - 1) * PAGE_SIZE,
                kind=kind,
                category=category,
            )
        except SearchQueryError as exc:
            context["error"] = str(exc)
        else:
            context["result"] = result
            context["search_id"] = search_record(
                query=result.query,
                locale=locale.language_code,
                result_ids=[h.article.pk for h in result.hits],
                result_count=result.count,
                channel="web",
                # The click that may follow must find the same journey.
                journey_id=journey_id_ensure(request),
            )
            if result.count:
                paginator = Paginator(
                    range(min(result.count, 100 * PAGE_SIZE)), PAGE_SIZE
                )
                context["page_obj"] = paginator.get_page(page_number)
    if locale is not None and (
        not context.get("result") or not context["result"].count
    ):
        context["useful"] = article_list_useful(locale=locale)
    status = 400 if context.get("error") else 200
    return render(request, "kb_site/search.html", context, status=status)


def widget_demo(request: HttpRequest) -> HttpResponse:
    """/widget-demo/: a stand-in customer page that embeds the help widget."""
    key = settings.KB_DEMO_WIDGET_KEY
    if not key and settings.KB_DEMO_WIDGET_KEY_FILE.exists():
        key = settings.KB_DEMO_WIDGET_KEY_FILE.read_text().strip()
    locale = request.GET.get("locale", "")
    context = {
        "site_key": key,
        "locale": locale if locale in dict(settings.KB_LOCALES) else "",
    }
    return render(request, "kb_site/widget_demo.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
