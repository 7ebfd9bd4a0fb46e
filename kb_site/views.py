"""Views that combine apps: the search page. Article pages are served by Wagtail."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language

from articles.selectors import help_center_for_locale, locale_get
from search.selectors import article_search

QUERY_MAX_LENGTH = 500


def search_page(request: HttpRequest) -> HttpResponse:
    """The shareable results page, /<locale>/search/?q=…, which works without JavaScript."""
    locale = locale_get(language_code=get_language())
    query = request.GET.get("q", "").strip()
    error = None
    results = []
    if len(query) > QUERY_MAX_LENGTH:
        error = f"Your search is too long: please use at most {QUERY_MAX_LENGTH} characters."
    elif query and locale is not None:
        results = list(article_search(query=query, locale=locale))
    return render(
        request,
        "kb_site/search.html",
        {
            "query": query,
            "results": results,
            "error": error,
            "home": help_center_for_locale(locale=locale) if locale else None,
        },
    )


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
