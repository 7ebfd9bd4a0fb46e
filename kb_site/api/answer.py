"""GET /api/v1/answer: the best answer to a customer's question, for chatbots.

The passage is plain text quoted from the article's live revision (its URL and
revision id are the citation). `handoff` is true when the confidence is under
KB_ANSWER_HANDOFF_BELOW: the bot should offer a person. Each call is logged as a
search of the given channel (bot by default), like /api/v1/search.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.models import Channel
from feedback.services import search_record
from kb_site.api.errors import ApiError
from kb_site.api.search import LOCALE_CHOICES, _locale
from search.selectors import QUERY_MAX_LENGTH, SearchQueryError, answer_best


class AnswerArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.URLField()
    revision_id = serializers.IntegerField(
        allow_null=True, help_text="The revision the passage is quoted from."
    )
    passage = serializers.CharField(
        allow_blank=True,
        help_text="Plain text, at most 600 characters: a paragraph or an FAQ answer.",
    )
    confidence = serializers.FloatField(min_value=0, max_value=1)


class AnswerAlternativeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.URLField()
    confidence = serializers.FloatField(min_value=0, max_value=1)


class AnswerApi(APIView):
    """The best article and passage for a question, with a confidence in [0, 1]."""

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(
            max_length=QUERY_MAX_LENGTH, trim_whitespace=False, allow_blank=True
        )
        locale = serializers.ChoiceField(
            choices=LOCALE_CHOICES, default=settings.LANGUAGE_CODE
        )
        journey_id = serializers.RegexField(
            r"^[A-Za-z0-9_.:-]+$", required=False, max_length=64
        )
        channel = serializers.ChoiceField(choices=Channel.values, default=Channel.BOT)

    class OutputSerializer(serializers.Serializer):
        query = serializers.CharField(allow_blank=True)
        locale = serializers.CharField()
        answer = AnswerArticleSerializer(
            allow_null=True, help_text="Null when no article matched."
        )
        confidence = serializers.FloatField(min_value=0, max_value=1)
        handoff = serializers.BooleanField(
            help_text="True when the confidence is too low: offer a person."
        )
        alternatives = AnswerAlternativeSerializer(
            many=True, help_text="Up to three other articles, best first."
        )
        fallback_locale = serializers.CharField(
            allow_null=True,
            help_text="Set when the answer is an untranslated article of this locale.",
        )
        search_id = serializers.CharField(
            help_text="Name it in later events (resolved, rejected, escalated)."
        )

    def get(self, request):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        locale = _locale(params["locale"])
        try:
            answer = answer_best(query=params["q"], locale=locale)
        except SearchQueryError as exc:
            raise ApiError(str(exc), code=exc.code, field="q") from exc
        shown = ([answer.article.id] if answer.article else []) + [
            alt.id for alt in answer.alternatives
        ]
        search_id = search_record(
            query=answer.query,
            locale=locale.language_code,
            result_ids=shown,
            channel=params["channel"],
            journey_id=params.get("journey_id"),
        )
        absolute = request.build_absolute_uri
        body = {
            "query": answer.query,
            "locale": answer.locale,
            "answer": (
                {
                    "id": answer.article.id,
                    "title": answer.article.title,
                    "url": absolute(answer.article.url),
                    "revision_id": answer.article.revision_id,
                    "passage": answer.passage,
                    "confidence": answer.confidence,
                }
                if answer.article
                else None
            ),
            "confidence": answer.confidence,
            "handoff": answer.handoff,
            "alternatives": [
                {
                    "id": alt.id,
                    "title": alt.title,
                    "url": absolute(alt.url),
                    "confidence": alt.confidence,
                }
                for alt in answer.alternatives
            ],
            "fallback_locale": answer.fallback_locale,
            "search_id": search_id,
        }
        return Response(self.OutputSerializer(body).data)
