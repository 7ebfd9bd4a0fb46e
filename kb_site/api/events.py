"""POST /api/v1/events: journey events from the widget, the bot and agents."""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.models import ApiKeyScope, Channel
from feedback.services import (
    MAX_BATCH,
    EventBatchInvalid,
    event_record_batch,
    problem_path,
)
from kb_site.api.auth import (
    SAME_SITE_SCOPE,
    ApiKeyAuthentication,
    HasApiKeyScope,
    SameSiteAuthentication,
    SameSiteClient,
)
from kb_site.api.errors import ApiError

# A key's scope is also the channel its events default to.
_CHANNEL_OF_SCOPE = {
    ApiKeyScope.WIDGET: Channel.WIDGET,
    ApiKeyScope.BOT: Channel.BOT,
    ApiKeyScope.AGENT: Channel.AGENT,
}


class EventBatchCreateApi(APIView):
    """Stores a batch of events, all or none, idempotently per event id."""

    # The site's own pages post with their cookies and CSRF token instead of a key.
    authentication_classes = [ApiKeyAuthentication, SameSiteAuthentication]
    permission_classes = [HasApiKeyScope]
    api_key_scopes = (
        ApiKeyScope.WIDGET,
        ApiKeyScope.BOT,
        ApiKeyScope.AGENT,
        SAME_SITE_SCOPE,
    )

    class InputSerializer(serializers.Serializer):
        # Each event is validated by the service, which names bad events by index.
        events = serializers.ListField(
            child=serializers.JSONField(), allow_empty=False, max_length=MAX_BATCH
        )

    class OutputSerializer(serializers.Serializer):
        accepted = serializers.IntegerField()
        duplicates = serializers.IntegerField()

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        events = serializer.validated_data["events"]
        if isinstance(request.auth, SameSiteClient):
            # The site's pages speak for the cookie's journey only, on the web channel.
            events = [
                {**e, "journey_id": request.auth.journey_id, "channel": Channel.WEB}
                if isinstance(e, dict)
                else e
                for e in events
            ]
        try:
            accepted, duplicates = event_record_batch(
                events=events,
                channel_default=_CHANNEL_OF_SCOPE.get(request.auth.scope, Channel.API),
            )
        except EventBatchInvalid as exc:
            first = exc.problems[0]
            raise ApiError(
                f"{len(exc.problems)} problem(s) in the batch; nothing was stored.",
                code="invalid_events",
                field=problem_path(first),
                details=exc.problems,
            ) from exc
        body = self.OutputSerializer(
            {"accepted": accepted, "duplicates": duplicates}
        ).data
        return Response(body, status=status.HTTP_200_OK)
