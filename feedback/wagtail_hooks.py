from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

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
