from django.dispatch import receiver
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.signals import init_new_page

from articles.models import ArticlePage
from feedback import reports
from feedback.reports import can_view_reports
from feedback.views import VoteCommentIndexView


@hooks.register("register_admin_urls")
def register_feedback_admin_urls():
    """The feedback app's admin pages (Wagtail requires admin access for them)."""
    return [
        path(
            "feedback/comments/",
            VoteCommentIndexView.as_view(),
            name="feedback_vote_comments",
        )
    ]


@hooks.register("register_admin_menu_item")
def register_vote_comments_menu_item():
    """A menu entry for the vote comments page."""
    return MenuItem(
        _("Vote comments"),
        reverse("feedback_vote_comments"),
        icon_name="comment",
        order=400,
    )


@hooks.register("register_admin_urls")
def register_agent_link_report_urls():
    """The "Agent links" report and its filtered results (for the listing's AJAX)."""
    from feedback.agent_reports import AgentLinkReportView

    return [
        path(
            "reports/agent-links/",
            AgentLinkReportView.as_view(),
            name="feedback_agent_links",
        ),
        path(
            "reports/agent-links/results/",
            AgentLinkReportView.as_view(results_only=True),
            name="feedback_agent_links_results",
        ),
    ]


@hooks.register("register_reports_menu_item")
def register_agent_link_report_menu_item():
    """ "Agent links" under Reports."""
    return MenuItem(
        _("Agent links"),
        reverse("feedback_agent_links"),
        icon_name="link",
        order=900,
    )


# --- help-center reports (feedback/reports.py) ---


def _kb_report_urls():
    urls = [
        path(
            "create-article/",
            reports.create_article_for_query,
            name="create_article",
        )
    ]
    for view in reports.REPORTS:
        slug = view.slug.replace("_", "-")
        urls += [
            path(f"{slug}/", view.as_view(), name=view.slug),
            path(
                f"{slug}/results/",
                view.as_view(results_only=True),
                name=f"{view.slug}_results",
            ),
        ]
    return urls


@hooks.register("register_admin_urls")
def register_kb_report_urls():
    """The help-center reports, /admin/kb-reports/… (admin access required)."""
    return [path("kb-reports/", include((_kb_report_urls(), "kb_reports")))]


class KbReportMenuItem(MenuItem):
    def is_shown(self, request):
        return can_view_reports(request.user)


def _kb_report_menu_item(view, order):
    def register():
        return KbReportMenuItem(
            view.page_title,
            reverse(f"kb_reports:{view.slug}"),
            name=f"kb-{view.slug.replace('_', '-')}",
            icon_name=view.header_icon,
            order=order,
        )

    return register


for _n, _view in enumerate(reports.REPORTS):
    hooks.register("register_reports_menu_item", _kb_report_menu_item(_view, 100 + _n))


@hooks.register("construct_homepage_panels")
def add_kb_deflection_panel(request, panels):
    """This week's deflection figures on the admin home, for those who see reports."""
    if can_view_reports(request.user):
        panels.append(reports.DeflectionDashboardPanel())


@hooks.register("before_create_page")
def remember_new_article_title(request, parent_page, page_class):
    """Keeps ?title= (the "Create article" link of a content gap) for the new page."""
    title = request.GET.get("title", "").strip()
    if title and issubclass(page_class, ArticlePage):
        parent_page._kb_initial_title = title[:255]


@receiver(init_new_page, dispatch_uid="feedback_prefill_new_article_title")
def prefill_new_article_title(sender, page, parent, **kwargs):
    """Pre-fills the title of a new article opened from a content gap."""
    title = getattr(parent, "_kb_initial_title", None)
    if title and not page.title:
        page.title = title


# --- API keys (feedback/admin_views.py) ---


@hooks.register("register_admin_urls")
def register_api_key_admin_urls():
    """Settings > API keys: list, create, revoke."""
    from feedback import admin_views

    return [
        path(
            "feedback/api-keys/",
            admin_views.ApiKeyIndexView.as_view(),
            name="feedback_api_keys",
        ),
        path(
            "feedback/api-keys/new/",
            admin_views.ApiKeyCreateView.as_view(),
            name="feedback_api_keys_create",
        ),
        path(
            "feedback/api-keys/<int:pk>/revoke/",
            admin_views.ApiKeyRevokeView.as_view(),
            name="feedback_api_keys_revoke",
        ),
    ]


class ApiKeyMenuItem(MenuItem):
    def is_shown(self, request):
        from feedback.admin_views import can_manage_api_keys

        return can_manage_api_keys(request.user)


@hooks.register("register_settings_menu_item")
def register_api_key_menu_item():
    """ "API keys" under Settings, for those who may manage them."""
    return ApiKeyMenuItem(
        _("API keys"),
        reverse("feedback_api_keys"),
        name="api-keys",
        icon_name="key",
        order=900,
    )
