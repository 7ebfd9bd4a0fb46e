"""GET /api/v1/articles…: customer-visible articles, for the widget, bots and sync.

Only live, public articles are served; drafts, private and internal (agents-only)
articles are a 404. Article reads carry an ETag and a short public Cache-Control.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from articles.markdown import article_body_render
from articles.models import ArticleKind, ArticlePage, CategoryPage
from articles.selectors import (
    article_get_live,
    article_get_live_by_id,
    article_list_changed,
    article_translations_live,
    locale_get,
)
from feedback.selectors import article_vote_summary
from kb_site.api.errors import ApiError
from kb_site.api.search import LOCALE_CHOICES, _locale

LIST_MAX_LIMIT = 100


def _max_age() -> int:
    return getattr(settings, "KB_API_ARTICLE_MAX_AGE", 60)


def article_absolute_url(request, article: ArticlePage) -> str:
    """The article's page as an absolute URL on the host the API was called on."""
    return request.build_absolute_uri(article.get_url(request=request))


def _not_found() -> ApiError:
    return ApiError("No published article here.", code="not_found", status_code=404)


class CategoryRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()


class TranslationSerializer(serializers.Serializer):
    locale = serializers.CharField()
    id = serializers.IntegerField()
    url = serializers.URLField()
    title = serializers.CharField()


class HelpfulnessSerializer(serializers.Serializer):
    up = serializers.IntegerField(help_text="Helpful votes, over all revisions.")
    down = serializers.IntegerField(help_text="Unhelpful votes, over all revisions.")
    score = serializers.FloatField(
        allow_null=True,
        help_text="Lower bound of the 95% Wilson interval of the helpful share "
        "(0 to 1); null without votes.",
    )


class ArticleSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    locale = serializers.CharField()
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=ArticleKind.values)
    url = serializers.URLField(help_text="The article's page on the help center.")
    category = CategoryRefSerializer()
    updated_at = serializers.DateTimeField(
        allow_null=True, help_text="When the live revision was published."
    )
    revision_id = serializers.IntegerField(allow_null=True)


class ArticleDetailSerializer(ArticleSummarySerializer):
    html = serializers.CharField(
        allow_blank=True, help_text="The body as sanitised HTML (allow-listed tags)."
    )
    text = serializers.CharField(
        allow_blank=True, help_text="The body as plain text, one paragraph a line."
    )
    markdown = serializers.CharField(allow_blank=True, help_text="The body's source.")
    translations = TranslationSerializer(
        many=True, help_text="Live translations, this article included."
    )
    helpfulness = HelpfulnessSerializer()


def _category_ref(category: CategoryPage | None) -> dict:
    if category is None:
        return {"slug": "", "title": ""}
    return {"slug": category.slug, "title": category.title}


def _summary_data(request, article: ArticlePage, category: CategoryPage | None):
    return {
        "id": article.pk,
        "locale": article.locale.language_code,
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary,
        "kind": article.kind,
        "url": article_absolute_url(request, article),
        "category": _category_ref(category),
        "updated_at": article.last_published_at,
        "revision_id": article.live_revision_id,
    }


def helpfulness_data(votes) -> dict:
    """HelpfulnessSerializer's data from an article's vote summary (all revisions)."""
    score = votes.overall.wilson_lower
    return {
        "up": votes.overall.up,
        "down": votes.overall.down,
        "score": round(score, 4) if score is not None else None,
    }


def _etag(article: ArticlePage, votes) -> str:
    # The live revision names the content; the vote counts change without a revision.
    tally = votes.overall
    return f'"a{article.pk}-r{article.live_revision_id}-v{tally.up}.{tally.down}"'


class _ArticleReadApi(APIView):
    """Shared by the two article reads: conditional GET and caching headers."""

    def article_response(self, request, article: ArticlePage | None) -> Response:
        if article is None:
            raise _not_found()
        votes = article_vote_summary(article=article)
        etag = _etag(article, votes)
        headers = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={_max_age()}",
        }
        if_none_match = request.headers.get("If-None-Match", "")
        if if_none_match and (
            if_none_match.strip() == "*" or etag in parse_etags(if_none_match)
        ):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        rendered = article_body_render(article=article)
        data = _summary_data(request, article, article.get_parent().specific)
        data.update(
            html=rendered.html,
            text=rendered.text,
            markdown=article.body,
            translations=[
                {
                    "locale": t.locale.language_code,
                    "id": t.pk,
                    "url": article_absolute_url(request, t),
                    "title": t.title,
                }
                for t in article_translations_live(article=article)
            ],
            helpfulness=helpfulness_data(votes),
        )
        return Response(ArticleDetailSerializer(data).data, headers=headers)


_READ_RESPONSES = {
    200: ArticleDetailSerializer,
    304: OpenApiResponse(description="Not modified: the `If-None-Match` ETag matched."),
}
_IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="An ETag from an earlier response; a match answers 304.",
)


class ArticleDetailApi(_ArticleReadApi):
    """One customer-visible article by id."""

    @extend_schema(
        operation_id="articles_retrieve",
        parameters=[_IF_NONE_MATCH],
        responses=_READ_RESPONSES,
    )
    def get(self, request, article_id: int):
        return self.article_response(
            request, article_get_live_by_id(article_id=article_id)
        )


class ArticleBySlugApi(_ArticleReadApi):
    """One customer-visible article by locale and slug."""

    @extend_schema(
        operation_id="articles_retrieve_by_slug",
        parameters=[
            OpenApiParameter("locale", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH),
            _IF_NONE_MATCH,
        ],
        responses=_READ_RESPONSES,
    )
    def get(self, request, locale: str, slug: str):
        found = locale_get(language_code=locale) if locale in LOCALE_CHOICES else None
        article = article_get_live(locale=found, slug=slug) if found else None
        return self.article_response(request, article)


class ArticleListApi(APIView):
    """Customer-visible articles in publication order, for clients that sync a copy."""

    class InputSerializer(serializers.Serializer):
        locale = serializers.ChoiceField(choices=LOCALE_CHOICES, required=False)
        category = serializers.SlugField(required=False, max_length=100)
        kind = serializers.ChoiceField(choices=ArticleKind.values, required=False)
        updated_since = serializers.DateTimeField(
            required=False,
            help_text="ISO 8601; only articles published at or after this time.",
        )
        limit = serializers.IntegerField(
            min_value=1, max_value=LIST_MAX_LIMIT, default=20
        )
        offset = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(
            allow_null=True, help_text="The next page, or null on the last one."
        )
        previous = serializers.URLField(allow_null=True)
        results = ArticleSummarySerializer(many=True)

    @extend_schema(
        operation_id="articles_list",
        parameters=[InputSerializer],
        responses=OutputSerializer,
    )
    def get(self, request):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        locale = _locale(params["locale"]) if params.get("locale") else None
        qs = article_list_changed(
            locale=locale,
            category_slug=params.get("category"),
            kind=params.get("kind"),
            updated_since=params.get("updated_since"),
        )
        limit, offset = params["limit"], params["offset"]
        count = qs.count()
        page = list(qs[offset : offset + limit])
        # One query for the categories of the whole page, not one per article.
        parents = {
            c.path: c
            for c in CategoryPage.objects.filter(
                path__in={a.path[: -ArticlePage.steplen] for a in page}
            )
        }
        url = request.build_absolute_uri()
        body = {
            "count": count,
            "next": (
                replace_query_param(url, "offset", offset + limit)
                if offset + limit < count
                else None
            ),
            "previous": (
                None
                if offset == 0
                else (
                    replace_query_param(url, "offset", max(0, offset - limit))
                    if offset - limit > 0
                    else remove_query_param(url, "offset")
                )
            ),
            "results": [
                _summary_data(request, a, parents.get(a.path[: -ArticlePage.steplen]))
                for a in page
            ],
        }
        return Response(self.OutputSerializer(body).data)
