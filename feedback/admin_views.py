"""Admin, Settings > API keys: list, create (the raw key shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from feedback.forms import ApiKeyForm
from feedback.models import ApiKey
from feedback.selectors import api_key_list
from feedback.services import api_key_create, api_key_revoke

PERMISSION = "feedback.add_apikey"


def can_manage_api_keys(user) -> bool:
    """Superusers, and users given the "Can add API key" permission."""
    return user.is_active and user.has_perm(PERMISSION)


class _ApiKeyAdminMixin(WagtailAdminTemplateMixin):
    header_icon = "key"
    _index_crumb = {
        "url": reverse_lazy("feedback_api_keys"),
        "label": gettext_lazy("API keys"),
    }

    def dispatch(self, request, *args, **kwargs):
        if not can_manage_api_keys(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ApiKeyIndexView(_ApiKeyAdminMixin, TemplateView):
    """Every key: name, scope, prefix, origins, created, last used, revoked."""

    template_name = "feedback/admin/api_keys.html"
    page_title = gettext_lazy("API keys")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["keys"] = api_key_list()
        return context


@method_decorator(never_cache, name="dispatch")
class ApiKeyCreateView(_ApiKeyAdminMixin, FormView):
    """A new key; the page that answers the POST is the only place its secret shows."""

    template_name = "feedback/admin/api_keys_create.html"
    page_title = gettext_lazy("New API key")
    form_class = ApiKeyForm

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), self._index_crumb]

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            key, raw_key = api_key_create(
                name=data["name"],
                scope=data["scope"],
                allowed_origins=data["allowed_origins"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        context = self.get_context_data(form=form, key=key, raw_key=raw_key)
        context["page_title"] = _("API key created")
        response = self.response_class(
            request=self.request,
            template="feedback/admin/api_keys_created.html",
            context=context,
        )
        response["Cache-Control"] = "no-store"
        return response


class ApiKeyRevokeView(_ApiKeyAdminMixin, TemplateView):
    """GET: asks to confirm; POST (with CSRF): revokes the key."""

    template_name = "feedback/admin/api_keys_revoke.html"
    page_title = gettext_lazy("Revoke API key")

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), self._index_crumb]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["key"] = get_object_or_404(ApiKey, pk=self.kwargs["pk"])
        return context

    def post(self, request, pk):
        key = api_key_revoke(key=get_object_or_404(ApiKey, pk=pk))
        messages.success(
            request, _("The key “%(name)s” is revoked.") % {"name": key.name}
        )
        return redirect(reverse("feedback_api_keys"))
