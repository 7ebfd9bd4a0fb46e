"""The Content-Security-Policy header: django-csp, with looser policies for staff pages.

Public pages get `CONTENT_SECURITY_POLICY` (no inline script, no inline style, no
framing). A path starting with a prefix of `KB_CSP_PATH_POLICIES` (the Wagtail and
Django admins, the API docs page) gets that prefix's directives instead: those are
third-party templates that still carry inline scripts, and only staff use them.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import default_config
from django.conf import settings


def csp_path_directives(path: str) -> dict | None:
    """The directives of the longest matching prefix in KB_CSP_PATH_POLICIES, if any."""
    matches = [
        prefix
        for prefix in getattr(settings, "KB_CSP_PATH_POLICIES", {})
        if path.startswith(prefix)
    ]
    if not matches:
        return None
    return settings.KB_CSP_PATH_POLICIES[max(matches, key=len)]


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, choosing the policy by path."""

    def get_policy_parts(self, request, response, report_only: bool = False):
        parts: PolicyParts = super().get_policy_parts(
            request=request, response=response, report_only=report_only
        )
        # A view's own @csp decorator (parts.config) still wins over the path rule.
        if not report_only and parts.config is None:
            directives = csp_path_directives(request.path_info)
            if directives is not None:
                parts.config = default_config(directives)
        return parts
