"""The OpenAPI schema and its interactive docs, served from this site only.

Swagger UI comes from drf-spectacular-sidecar (no CDN) and its start-up script is a
separate request (the "split" view), so the docs page needs no inline script.
"""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class ApiSchemaView(SpectacularAPIView):
    """GET /api/v1/schema/: OpenAPI 3 (YAML; JSON with ?format=json)."""


class ApiDocsView(SpectacularSwaggerSplitView):
    """GET /api/v1/docs/: Swagger UI on the schema, without inline script or style."""

    template_name = "kb_site/api/docs.html"
