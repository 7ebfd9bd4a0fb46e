"""GET /api/v1/search and /api/v1/suggest."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from articles.models import ArticleKind
from feedback.models import Channel
from feedback.services import search_record
from kb_site.api.errors import ApiError
from search.selectors import (
    QUERY_MAX_LENGTH,
    SearchQueryError,
    article_search,
    article_suggest,
    search_locale,
)

LOCALE_CHOICES = [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES]


class _LocaleField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=LOCALE_CHOICES, **kwargs)


def _locale(code: str):
    locale = search_locale(language_code=code)
    if locale is None:
        raise ApiError(
            f"The help center has no content in '{code}' yet.",
            code="unknown_locale",
            field="locale",
        )
    return locale


class ArticleSearchApi(APIView):
    """Searches live articles of one locale; the response's search_id names this search."""

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(
            max_length=QUERY_MAX_LENGTH, trim_whitespace=False, allow_blank=True
        )
        locale = _LocaleField(default=settings.LANGUAGE_CODE)
        limit = serializers.IntegerField(min_value=1, max_value=50, default=10)
        offset = serializers.IntegerField(min_value=0, max_value=1000, default=0)
        category = serializers.SlugField(required=False, max_length=100)
        kind = serializers.ChoiceField(choices=ArticleKind.values, required=False)
        tag = serializers.SlugField(required=False, max_length=100)
        journey_id = serializers.CharField(required=False, max_length=64)
        channel = serializers.ChoiceField(choices=Channel.values, default=Channel.API)

    class HitSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="article.pk")
        title = serializers.CharField()
        url = serializers.CharField()
        summary = serializers.CharField()
        snippet = serializers.CharField(
            help_text="Escaped HTML; matched words in <mark>."
        )
        kind = serializers.CharField()
        category = serializers.CharField()
        score = serializers.FloatField()
        promoted = serializers.BooleanField()

    class OutputSerializer(serializers.Serializer):
        query = serializers.CharField()
        locale = serializers.CharField()
        count = serializers.IntegerField()
        results = serializers.SerializerMethodField()
        suggestion = serializers.CharField(allow_null=True)
        fallback_locale = serializers.CharField(
            allow_null=True,
            help_text="Set when no article matched in the locale and these are untranslated results.",
        )
        search_id = serializers.CharField()

        def get_results(self, result) -> list[dict]:
            return ArticleSearchApi.HitSerializer(result.hits, many=True).data

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer)
    def get(self, request):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        locale = _locale(params["locale"])
        try:
            result = article_search(
                query=params["q"],
                locale=locale,
                limit=params["limit"],
                offset=params["offset"],
                category=params.get("category"),
                kind=params.get("kind"),
                tag=params.get("tag"),
            )
        except SearchQueryError as exc:
            raise ApiError(str(exc), code=exc.code, field="q") from exc
        result.search_id = search_record(
            query=result.query,
            locale=locale.language_code,
            result_ids=[h.article.pk for h in result.hits],
            result_count=result.count,
            channel=params["channel"],
            journey_id=params.get("journey_id"),
        )
        return Response(self.OutputSerializer(result).data)


class ArticleSuggestApi(APIView):
    """Suggest-as-you-type: article titles whose words start with what was typed."""

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(
            max_length=100, allow_blank=True, trim_whitespace=False
        )
        locale = _LocaleField(default=settings.LANGUAGE_CODE)
        limit = serializers.IntegerField(min_value=1, max_value=20, default=8)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="pk")
        title = serializers.CharField()
        url = serializers.CharField()

    @extend_schema(
        parameters=[InputSerializer],
        responses={
            200: inline_serializer(
                "ArticleSuggestResponse",
                fields={
                    "query": serializers.CharField(allow_blank=True),
                    "results": OutputSerializer(many=True),
                },
            )
        },
    )
    def get(self, request):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        if "\x00" in params["q"]:
            raise ApiError(
                "The text contains a NUL character.", code="invalid_query", field="q"
            )
        articles = article_suggest(
            prefix=params["q"], locale=_locale(params["locale"]), limit=params["limit"]
        )
        return Response(
            {
                "query": params["q"],
                "results": self.OutputSerializer(articles, many=True).data,
            }
        )
