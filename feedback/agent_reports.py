"""Admin report "Agent links": the articles agents link most in ticket replies, how
often customers open those links, and how many of the linked tickets came back
(reopened, as the helpdesk webhook reported)."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.reports import ReportView

from feedback.models import AgentLink
from feedback.selectors import agent_link_article_counts, agent_link_list


class AgentLinkReportFilterSet(WagtailFilterSet):
    created = django_filters.DateFromToRangeFilter(
        label=_("Linked between"), widget=DateRangePickerWidget
    )
    locale = django_filters.ChoiceFilter(
        label=_("Locale"),
        field_name="article__locale__language_code",
        choices=settings.WAGTAIL_CONTENT_LANGUAGES,
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )

    class Meta:
        model = AgentLink
        fields = ["created", "locale"]


class AgentLinkReportView(ReportView):
    page_title = _("Agent links")
    header_icon = "link"
    index_url_name = "feedback_agent_links"
    index_results_url_name = "feedback_agent_links_results"
    filterset_class = AgentLinkReportFilterSet
    columns = [
        TitleColumn(
            "article__title",
            label=_("Article"),
            url_name="wagtailadmin_pages:edit",
            id_accessor="article",
        ),
        Column("article__locale__language_code", label=_("Locale")),
        Column("links", label=_("Links sent")),
        Column("opens", label=_("Opens")),
        Column("links_opened", label=_("Links opened")),
        Column("tickets", label=_("Tickets")),
        Column("tickets_reopened", label=_("Tickets reopened")),
    ]
    list_export = [
        "article",
        "article__title",
        "article__locale__language_code",
        "links",
        "opens",
        "links_opened",
        "tickets",
        "tickets_reopened",
    ]
    export_headings = {
        "article": _("Article id"),
        "article__title": _("Article"),
        "article__locale__language_code": _("Locale"),
        "links": _("Links sent"),
        "opens": _("Opens"),
        "links_opened": _("Links opened"),
        "tickets": _("Tickets"),
        "tickets_reopened": _("Tickets reopened"),
    }

    def get_queryset(self):
        return agent_link_list()

    def get_filtered_queryset(self):
        return agent_link_article_counts(
            links=self.filter_queryset(self.get_queryset())
        )

    def get_filename(self):
        return f"agent-links-{datetime.date.today():%Y-%m-%d}"
