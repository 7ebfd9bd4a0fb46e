"""Django's LocaleMiddleware, minus its 404 redirect outside the localised pages.

With `prefix_default_language`, Django answers any 404 by redirecting to the same
path under `/en/` when that path could resolve, and Wagtail's catch-all page route
makes every path resolvable: an API 404 (a JSON error) or an unknown `/l/<token>`
would become a redirect to a page that does not exist.
"""

from django.middleware.locale import LocaleMiddleware

# Paths that are never localised: their 404s are answers, not missing prefixes.
UNLOCALISED_PREFIXES = ("/api/", "/l/")


class KbLocaleMiddleware(LocaleMiddleware):
    def process_response(self, request, response):
        if response.status_code == 404 and request.path_info.startswith(
            UNLOCALISED_PREFIXES
        ):
            return response
        return super().process_response(request, response)
