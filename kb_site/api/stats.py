"""GET /api/v1/stats/deflection: the deflection figures as JSON for other dashboards."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.models import ApiKeyScope, Channel
from feedback.selectors import deflection_summary
from kb_site.api.auth import ApiKeyAuthentication, HasApiKeyScope
from kb_site.api.errors import ApiError

DEFAULT_DAYS = 7
MAX_DAYS = 3660


def _day(value: str | None, name: str, default: date) -> date:
    if value in (None, ""):
        return default
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(
            f"'{name}' must be a date as YYYY-MM-DD.", code="invalid_date", field=name
        ) from exc


def _choice(value: str | None, name: str, choices: list[str]) -> str | None:
    if value in (None, ""):
        return None
    if value not in choices:
        raise ApiError(
            f"Unknown {name}; one of: {', '.join(choices)}.",
            code=f"unknown_{name}",
            field=name,
        )
    return value


class _RoundedFloatField(serializers.FloatField):
    def to_representation(self, value):
        return round(super().to_representation(value), 4)


# "from" is a Python keyword, so this serializer is built with type().
DeflectionStatsOutputSerializer = type(
    "DeflectionStatsOutputSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(source="day_from"),
        "to": serializers.DateField(source="day_to"),
        "searches": serializers.IntegerField(),
        "journeys": serializers.IntegerField(
            help_text="Journeys that started in the range, with an outcome or not."
        ),
        "deflected": serializers.IntegerField(),
        "deflected_explicit": serializers.IntegerField(),
        "deflected_inferred": serializers.IntegerField(),
        "ticketed": serializers.IntegerField(),
        "abandoned": serializers.IntegerField(),
        "deflection_rate": _RoundedFloatField(
            allow_null=True,
            help_text="deflected / (deflected + ticketed); null when neither happened.",
        ),
    },
)


class DeflectionStatsApi(APIView):
    """Searches, journeys and their outcomes over a day range (both days included)."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    api_key_scopes = (ApiKeyScope.REPORTS,)

    OutputSerializer = DeflectionStatsOutputSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", str, description="YYYY-MM-DD; default 6 days before 'to'."
            ),
            OpenApiParameter("to", str, description="YYYY-MM-DD; default today."),
            OpenApiParameter(
                "locale", str, enum=[c for c, _n in settings.WAGTAIL_CONTENT_LANGUAGES]
            ),
            OpenApiParameter("channel", str, enum=Channel.values),
        ],
        responses=OutputSerializer,
    )
    def get(self, request):
        params = request.query_params
        day_to = _day(params.get("to"), "to", timezone.localdate())
        day_from = _day(
            params.get("from"), "from", day_to - timedelta(days=DEFAULT_DAYS - 1)
        )
        if day_from > day_to:
            raise ApiError("'from' is after 'to'.", code="invalid_range", field="from")
        if (day_to - day_from).days >= MAX_DAYS:
            raise ApiError(
                f"At most {MAX_DAYS} days at once.", code="invalid_range", field="from"
            )
        locale = _choice(
            params.get("locale"),
            "locale",
            [c for c, _n in settings.WAGTAIL_CONTENT_LANGUAGES],
        )
        channel = _choice(params.get("channel"), "channel", list(Channel.values))
        summary = deflection_summary(
            day_from=day_from, day_to=day_to, locale=locale, channel=channel
        )
        return Response(self.OutputSerializer(summary).data)
