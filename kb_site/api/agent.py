"""/api/v1/agent/…: tools for support agents (keys with the `agent` scope).

`GET agent/search` is the customer search plus internal (agents-only) articles and
each hit's helpfulness and deflection figures. It is not logged as a customer
search, so agents looking things up never count as abandoned customer journeys.
`POST agent/links` makes a tracked `/l/<token>` link for a ticket reply.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from articles.models import ArticleKind
from articles.selectors import MAX_ID, article_get_live_by_id
from feedback.models import ApiKeyScope
from feedback.selectors import VoteTally, article_outcome_counts
from feedback.services import TICKET_REF_MAX_LENGTH, agent_link_create
from kb_site.api.articles import HelpfulnessSerializer, article_absolute_url
from kb_site.api.auth import ApiKeyAuthentication, HasApiKeyScope
from kb_site.api.errors import ApiError
from kb_site.api.search import LOCALE_CHOICES, _locale
from search.selectors import QUERY_MAX_LENGTH, SearchQueryError, article_search


class DeflectionSerializer(serializers.Serializer):
    views = serializers.IntegerField()
    clicks = serializers.IntegerField()
    deflections = serializers.IntegerField(
        help_text="Journeys whose deflection is credited to the article."
    )
    deflections_explicit = serializers.IntegerField(
        help_text="Of those, customers who said the answer helped."
    )
    tickets_after_reading = serializers.IntegerField(
        help_text="Journeys that read the article and still became a ticket."
    )


class AgentSearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.URLField()
    summary = serializers.CharField(allow_blank=True)
    snippet = serializers.CharField(
        allow_blank=True, help_text="Escaped HTML; matched words in <mark>."
    )
    kind = serializers.CharField()
    category = serializers.CharField()
    internal = serializers.BooleanField(
        help_text="Agents only: never send this article to a customer."
    )
    score = serializers.FloatField()
    helpfulness = HelpfulnessSerializer()
    deflection = DeflectionSerializer()


class AgentSearchApi(APIView):
    """Searches public and internal articles, with their helpfulness and deflections."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    api_key_scopes = (ApiKeyScope.AGENT,)

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(
            max_length=QUERY_MAX_LENGTH, trim_whitespace=False, allow_blank=True
        )
        locale = serializers.ChoiceField(
            choices=LOCALE_CHOICES, default=settings.LANGUAGE_CODE
        )
        limit = serializers.IntegerField(min_value=1, max_value=50, default=10)
        offset = serializers.IntegerField(min_value=0, max_value=1000, default=0)
        category = serializers.SlugField(required=False, max_length=100)
        kind = serializers.ChoiceField(choices=ArticleKind.values, required=False)

    class OutputSerializer(serializers.Serializer):
        query = serializers.CharField(allow_blank=True)
        locale = serializers.CharField()
        count = serializers.IntegerField()
        suggestion = serializers.CharField(allow_null=True)
        results = AgentSearchHitSerializer(many=True)

    @extend_schema(operation_id="agent_search")
    def get(self, request):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        try:
            result = article_search(
                query=params["q"],
                locale=_locale(params["locale"]),
                limit=params["limit"],
                offset=params["offset"],
                category=params.get("category"),
                kind=params.get("kind"),
                include_internal=True,
            )
        except SearchQueryError as exc:
            raise ApiError(str(exc), code=exc.code, field="q") from exc
        figures = article_outcome_counts(
            article_ids=[h.article.pk for h in result.hits]
        )
        results = []
        for hit in result.hits:
            counts = figures.get(hit.article.pk, {})
            tally = VoteTally(
                up=counts.get("helpful_up", 0), down=counts.get("helpful_down", 0)
            )
            score = tally.wilson_lower
            results.append(
                {
                    "id": hit.article.pk,
                    "title": hit.title,
                    "url": article_absolute_url(request, hit.article),
                    "summary": hit.summary,
                    "snippet": str(hit.snippet),
                    "kind": hit.kind,
                    "category": hit.category,
                    "internal": hit.article.is_internal,
                    "score": hit.score,
                    "helpfulness": {
                        "up": tally.up,
                        "down": tally.down,
                        "score": round(score, 4) if score is not None else None,
                    },
                    "deflection": {
                        name: counts.get(name, 0)
                        for name in DeflectionSerializer().fields
                    },
                }
            )
        body = {
            "query": result.query,
            "locale": result.locale,
            "count": result.count,
            "suggestion": result.suggestion,
            "results": results,
        }
        return Response(self.OutputSerializer(body).data)


class AgentLinkCreateApi(APIView):
    """A tracked link to a customer-visible article, to paste into a ticket reply."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    api_key_scopes = (ApiKeyScope.AGENT,)

    class InputSerializer(serializers.Serializer):
        article = serializers.IntegerField(
            min_value=1, max_value=MAX_ID, help_text="The article's id."
        )
        ticket_ref = serializers.CharField(
            max_length=TICKET_REF_MAX_LENGTH,
            help_text="The helpdesk's ticket id, as its webhook reports it.",
        )

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        url = serializers.URLField(help_text="The short link: /l/<token>.")
        article = serializers.IntegerField()
        article_url = serializers.URLField(help_text="Where the link leads.")
        ticket_ref = serializers.CharField()

    @extend_schema(operation_id="agent_links_create", responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        article = article_get_live_by_id(
            article_id=params["article"], include_internal=True
        )
        if article is None:
            raise ApiError(
                "No published article has this id.",
                code="unknown_article",
                field="article",
            )
        if article.is_internal:
            raise ApiError(
                "This article is internal: customers cannot open it.",
                code="internal_article",
                field="article",
            )
        try:
            link = agent_link_create(
                article=article, ticket_ref=params["ticket_ref"], api_key=request.auth
            )
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise ApiError(messages[0], field=field) from exc
        body = {
            "token": link.token,
            "url": request.build_absolute_uri(reverse("agent_link", args=[link.token])),
            "article": article.pk,
            "article_url": article_absolute_url(request, article),
            "ticket_ref": link.ticket_ref,
        }
        return Response(
            self.OutputSerializer(body).data, status=status.HTTP_201_CREATED
        )
