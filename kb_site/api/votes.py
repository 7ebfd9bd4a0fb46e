"""POST /api/v1/articles/{id}/votes: "Was this helpful?" from the widget or a bot.

Who the voter is: the journey. Each key votes for its own journeys, so the voter is
the pair (API key, `journey_id`): one vote per journey per article, which a later
call changes and never doubles. A call without `journey_id` votes as the key itself
(one changeable vote per key and article). Keys can't reach each other's voters.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from articles.selectors import article_get_live_by_id
from feedback.models import COMMENT_MAX_LENGTH, ApiKeyScope, VoteReason
from feedback.ratelimit import WINDOW_SECONDS, vote_rate_limit_hit
from feedback.selectors import article_vote_summary
from feedback.services import vote_record
from kb_site.api.articles import HelpfulnessSerializer, helpfulness_data
from kb_site.api.auth import ApiKeyAuthentication, HasApiKeyScope
from kb_site.api.errors import ApiError
from kb_site.api.events import _CHANNEL_OF_SCOPE

ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"


def api_voter_id(*, key, journey_id: str | None) -> str:
    """The visitor id of an API vote: the key's journey, or the key itself."""
    if not journey_id:
        return f"api-key:{key.pk}"
    digest = hashlib.sha256(f"{key.pk}:{journey_id}".encode()).hexdigest()
    return f"api:{digest[:48]}"


class VoteCreateApi(APIView):
    """Records or changes a vote on a customer-visible article.

    The voter is the journey of the calling key: one vote per (key, journey_id)
    and article, changed (never doubled) by a later call; without journey_id the
    key itself is the voter. 201 for a new vote, 200 for a changed one. Widget
    keys are rate-limited per journey and per IP (429 with Retry-After).
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    api_key_scopes = (ApiKeyScope.WIDGET, ApiKeyScope.BOT, ApiKeyScope.AGENT)

    class InputSerializer(serializers.Serializer):
        helpful = serializers.BooleanField(help_text="Did the article help?")
        reason = serializers.ChoiceField(
            choices=VoteReason.values,
            required=False,
            allow_null=True,
            help_text="Why not (for helpful=false); ignored on a helpful vote.",
        )
        comment = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=COMMENT_MAX_LENGTH,
            default="",
            help_text="Plain text, never shown as HTML.",
        )
        journey_id = serializers.RegexField(
            ID_PATTERN,
            required=False,
            max_length=64,
            help_text="The customer's journey: also who the voter is.",
        )
        search_id = serializers.RegexField(
            ID_PATTERN,
            required=False,
            max_length=64,
            help_text="The search that led to the article, if any.",
        )

    class OutputSerializer(serializers.Serializer):
        article = serializers.IntegerField()
        helpful = serializers.BooleanField()
        reason = serializers.CharField(allow_null=True)
        changed = serializers.BooleanField(
            help_text="True when this replaced an earlier vote of the same voter."
        )
        helpfulness = HelpfulnessSerializer()

    @extend_schema(
        operation_id="articles_votes_create",
        responses={200: OutputSerializer, 201: OutputSerializer},
    )
    def post(self, request, article_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        article = article_get_live_by_id(article_id=article_id)
        if article is None:
            raise ApiError(
                "No published article here.", code="not_found", status_code=404
            )
        key = request.auth
        voter = api_voter_id(key=key, journey_id=params.get("journey_id"))
        # Widget keys are used from customers' browsers: the site's per-visitor and
        # per-IP vote limits apply. Bots and agent tools vote for many people.
        if key.scope == ApiKeyScope.WIDGET and vote_rate_limit_hit(
            visitor_id=voter, ip=request.META.get("REMOTE_ADDR", "")
        ):
            raise exceptions.Throttled(wait=WINDOW_SECONDS)
        existed = article.votes.filter(visitor_id=voter).exists()
        try:
            vote = vote_record(
                article=article,
                helpful=params["helpful"],
                visitor_id=voter,
                reason=params.get("reason"),
                comment=params["comment"],
                channel=_CHANNEL_OF_SCOPE[key.scope],
                journey_id=params.get("journey_id"),
                search_id=params.get("search_id"),
            )
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise ApiError(messages[0], field=field) from exc
        body = {
            "article": article.pk,
            "helpful": vote.helpful,
            "reason": vote.reason,
            "changed": existed,
            "helpfulness": helpfulness_data(article_vote_summary(article=article)),
        }
        return Response(
            self.OutputSerializer(body).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )
