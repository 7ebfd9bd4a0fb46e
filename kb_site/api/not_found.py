"""Any other path under /api/v1/: a JSON 404 in the API's error shape, never the
site's HTML page (nor a redirect to it)."""

from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from kb_site.api.errors import ApiError


@extend_schema(exclude=True)
class ApiNotFoundView(APIView):
    def _not_found(self, request, *args, **kwargs):
        raise ApiError(
            "There is no such API endpoint.", code="not_found", status_code=404
        )

    get = post = put = patch = delete = head = options = _not_found
