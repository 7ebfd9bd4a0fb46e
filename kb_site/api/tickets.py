"""POST /api/v1/tickets: the helpdesk reports tickets it created or updated.

The body is signed with HMAC-SHA256 under KB_HELPDESK_WEBHOOK_SECRET, sent as
`X-KB-Signature: sha256=<hex digest of the raw body>`; an unsigned or badly signed
request is a 401 and nothing is stored. Idempotent on the helpdesk's ticket id.
"""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.forwarding import signature_header
from feedback.models import Channel, TicketSource, TicketStatus
from feedback.services import TICKET_REF_MAX, ticket_record
from kb_site.api.errors import ApiError

SIGNATURE_HEADER = "X-KB-Signature"


def _signature_check(request) -> bytes:
    """The raw body, once its signature is proven; else a 401 (503 without a secret)."""
    secret = getattr(settings, "KB_HELPDESK_WEBHOOK_SECRET", "")
    if not secret:
        raise ApiError(
            "The helpdesk webhook is not configured (KB_HELPDESK_WEBHOOK_SECRET).",
            code="not_configured",
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    body = request.body
    sent = request.headers.get(SIGNATURE_HEADER, "").strip()
    expected = signature_header(body=body, secret=secret)
    if not sent or not hmac.compare_digest(expected.encode(), sent.lower().encode()):
        raise ApiError(
            f"Missing or bad {SIGNATURE_HEADER}: send sha256=<HMAC-SHA256 hex of "
            "the raw body under the shared secret>.",
            code="bad_signature",
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    return body


class TicketWebhookApi(APIView):
    """Records a helpdesk ticket (created, or its status changed) for its journey."""

    authentication_classes: list = []
    permission_classes: list = []
    # The body is read raw (its signature covers the exact bytes): JSON only.
    parser_classes = [JSONParser]
    # Documented in the schema: a bad or missing signature.
    api_error_statuses = (401,)

    class InputSerializer(serializers.Serializer):
        ticket_id = serializers.CharField(
            max_length=TICKET_REF_MAX, help_text="The helpdesk's own ticket id."
        )
        status = serializers.ChoiceField(choices=TicketStatus.values, required=False)
        journey_id = serializers.CharField(
            max_length=64, required=False, allow_blank=True
        )
        email_hash = serializers.CharField(
            max_length=64,
            required=False,
            allow_blank=True,
            help_text="The email_hash the contact form forwarded with the request.",
        )
        email = serializers.EmailField(
            max_length=254,
            required=False,
            allow_blank=True,
            help_text="Hashed on arrival, never stored.",
        )
        subject = serializers.CharField(
            max_length=1000, required=False, allow_blank=True
        )
        created_at = serializers.DateTimeField(required=False)
        channel = serializers.ChoiceField(choices=Channel.values, default=Channel.WEB)
        locale = serializers.CharField(max_length=16, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        ticket_id = serializers.CharField()
        created = serializers.BooleanField()
        journey_id = serializers.CharField()
        status = serializers.CharField()
        reopened_count = serializers.IntegerField()

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 201: OutputSerializer},
        parameters=[
            OpenApiParameter(
                SIGNATURE_HEADER,
                location=OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of the raw body>",
            )
        ],
    )
    def post(self, request):
        body = _signature_check(request)
        try:
            raw = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError("The body is not JSON.", code="parse_error") from exc
        if not isinstance(raw, dict):
            raise ApiError("The body is a JSON object.", code="invalid")
        serializer = self.InputSerializer(data=raw)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            ticket, created = ticket_record(
                source=TicketSource.HELPDESK,
                channel=data["channel"],
                external_ref=data["ticket_id"],
                status=data.get("status"),
                journey_id=data.get("journey_id", ""),
                email=data.get("email") or None,
                email_hash=data.get("email_hash", ""),
                subject=data.get("subject", ""),
                locale=data.get("locale", ""),
                created_at=data.get("created_at"),
            )
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            if field == "external_ref":
                field = "ticket_id"
            raise ApiError(messages[0], code="invalid", field=field) from exc
        body = {
            "ticket_id": ticket.external_ref,
            "created": created,
            "journey_id": ticket.journey_id,
            "status": ticket.status,
            "reopened_count": ticket.reopened_count,
        }
        return Response(
            self.OutputSerializer(body).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
