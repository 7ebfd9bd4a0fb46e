"""CORS for the API: only pages on widget origins may call it from a browser."""

from __future__ import annotations

from urllib.parse import SplitResult

from corsheaders.middleware import CorsMiddleware
from django.db import DatabaseError

from feedback.selectors import widget_origins_all


class WidgetCorsMiddleware(CorsMiddleware):
    """django-cors-headers, also allowing the origins listed on widget keys.

    KB_WIDGET_ORIGINS (CORS_ALLOWED_ORIGINS) covers every key; an operator can also
    give one key its own origins (`create_api_key --origin`), which count here too.
    """

    def origin_found_in_white_lists(self, origin: str, url: SplitResult) -> bool:
        if super().origin_found_in_white_lists(origin, url):
            return True
        try:
            return origin.rstrip("/").lower() in widget_origins_all()
        except DatabaseError:
            # A busy database is answered further in (503); no CORS grant meanwhile.
            return False
