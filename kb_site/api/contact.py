"""POST /api/v1/contact: the widget's "Contact support" form."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.forwarding import ContactForwardError
from feedback.models import ApiKeyScope, Channel, TicketSource
from feedback.selectors import article_get_votable
from feedback.services import (
    CONTACT_MESSAGE_MAX,
    EMAIL_MAX_LENGTH,
    TICKET_SUBJECT_MAX,
    contact_request_submit,
)
from kb_site.api.auth import ApiKeyAuthentication, HasApiKeyScope
from kb_site.api.errors import ApiError

LOCALE_CHOICES = [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES]


class ContactCreateApi(APIView):
    """Forwards a customer's request to support and records the journey's ticket.

    The same service as the site's contact page: the request goes to the helpdesk
    webhook or support inbox first; when that fails the answer is a 503 and nothing
    is recorded. The widget records `escalated` itself when it shows the form.
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    api_key_scopes = (ApiKeyScope.WIDGET,)

    class InputSerializer(serializers.Serializer):
        subject = serializers.CharField(max_length=TICKET_SUBJECT_MAX)
        message = serializers.CharField(max_length=CONTACT_MESSAGE_MAX)
        email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
        locale = serializers.ChoiceField(
            choices=LOCALE_CHOICES, default=settings.LANGUAGE_CODE
        )
        journey_id = serializers.CharField(
            max_length=64, required=False, allow_blank=True
        )
        search_id = serializers.CharField(
            max_length=64, required=False, allow_blank=True
        )
        article_id = serializers.IntegerField(required=False, allow_null=True)

    class OutputSerializer(serializers.Serializer):
        ticket_id = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        article = None
        if data.get("article_id") is not None:
            article = article_get_votable(article_id=data["article_id"])
            if article is None:
                raise ApiError("Unknown article.", field="article_id")
        try:
            ticket = contact_request_submit(
                subject=data["subject"],
                message=data["message"],
                email=data["email"],
                source=TicketSource.WIDGET,
                channel=Channel.WIDGET,
                locale=data["locale"],
                journey_id=data.get("journey_id", ""),
                search_id=data.get("search_id", ""),
                article=article,
            )
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise ApiError(messages[0], field=field) from exc
        except ContactForwardError as exc:
            raise ApiError(
                "Support could not be reached just now; nothing was sent. "
                "Please try again in a few minutes.",
                code="contact_unavailable",
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            ) from exc
        return Response(
            self.OutputSerializer({"ticket_id": ticket.pk}).data,
            status=status.HTTP_201_CREATED,
        )
