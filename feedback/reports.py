"""The Reports menu of the Wagtail admin: deflection, searches, articles, upkeep.

Every report filters by date range, locale and channel where they apply, exports CSV
and XLSX (Wagtail's ReportView), and reads the rollups plus today's live events
(feedback.selectors), never the whole event table.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

import django_filters
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets import AdminDateInput

from articles.models import ArticlePage
from articles.selectors import (
    article_list_outdated_translations,
    article_list_stale,
    category_list_live,
    help_center_for_locale,
    locale_get,
)
from feedback.models import Channel, DailyRollup
from feedback.selectors import (
    ReportPeriod,
    articles_before_tickets,
    articles_by_deflections,
    content_gaps,
    dashboard_figures,
    deflection_over_time,
    least_helpful_articles,
    searches_without_clicks,
    top_searches,
)

DEFAULT_DAYS = 30
MAX_DAYS = 3660
REPORTS_PERMISSION = "feedback.view_reports"


def can_view_reports(user) -> bool:
    """Superusers, and users with the reports permission (the "Support leads" group)."""
    return user.is_active and (user.is_superuser or user.has_perm(REPORTS_PERMISSION))


def _locale_choices():
    return list(settings.WAGTAIL_CONTENT_LANGUAGES)


# --- filters ---


class ReportFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        day_from, day_to = cleaned.get("date_from"), cleaned.get("date_to")
        if day_from and day_to and day_from > day_to:
            raise forms.ValidationError(_("The start date is after the end date."))
        if day_from and day_to and (day_to - day_from).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose at most ten years."))
        return cleaned


def _unfiltered(queryset, name, value):
    # The figures are computed from the cleaned values (ReportPeriod), not by
    # filtering a queryset: the rows are aggregates of rollups and live events.
    return queryset


class PeriodFilterSet(WagtailFilterSet):
    date_from = django_filters.DateFilter(
        label=_("From"), widget=AdminDateInput, method=_unfiltered
    )
    date_to = django_filters.DateFilter(
        label=_("To"), widget=AdminDateInput, method=_unfiltered
    )
    locale = django_filters.ChoiceFilter(
        label=_("Locale"),
        choices=_locale_choices,
        empty_label=_("All locales"),
        method=_unfiltered,
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"),
        choices=Channel.choices,
        empty_label=_("All channels"),
        method=_unfiltered,
    )

    class Meta:
        model = DailyRollup
        fields: list[str] = []
        form = ReportFilterForm


class IntervalFilterSet(PeriodFilterSet):
    interval = django_filters.ChoiceFilter(
        label=_("Interval"),
        choices=[("day", _("Daily")), ("week", _("Weekly"))],
        empty_label=None,
        method=_unfiltered,
    )


class VotePeriodFilterSet(PeriodFilterSet):
    # Votes carry no channel.
    channel = None


class LocaleFilterSet(WagtailFilterSet):
    locale = django_filters.ChoiceFilter(
        label=_("Locale"),
        choices=_locale_choices,
        empty_label=_("All locales"),
        method=_unfiltered,
    )

    class Meta:
        model = DailyRollup
        fields: list[str] = []


# --- columns ---


class PercentColumn(Column):
    """A share in [0, 1] shown as a whole percentage; a dash when undefined."""

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        raw = context["raw_value"]
        context["value"] = "–" if raw is None else f"{raw * 100:.0f} %"
        return context


class IsoDateColumn(Column):
    """A date as YYYY-MM-DD; "never" when missing."""

    empty_value_display = _("never")

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        raw = context["raw_value"]
        if raw:
            context["value"] = raw.isoformat()
        return context


def _rate_for_export(value):
    return "" if value is None else round(value, 4)


def _article_edit_url(row) -> str:
    return reverse("wagtailadmin_pages:edit", args=(row["article_id"],))


def _create_article_url(row) -> str:
    params = {"query": row["query"], "locale": row["locale"]}
    return f"{reverse('kb_reports:create_article')}?{urlencode(params)}"


# --- the views ---


class KbReportView(ReportView):
    """A report of the help center; only for users who may view reports."""

    filterset_class = PeriodFilterSet
    paginate_by = 50
    header_icon = "table"
    slug = ""
    rate_fields = ("deflection_rate", "click_through_rate", "helpful_share")

    def dispatch(self, request, *args, **kwargs):
        if not can_view_reports(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @property
    def index_url_name(self):
        return f"kb_reports:{self.slug}"

    @property
    def index_results_url_name(self):
        return f"kb_reports:{self.slug}_results"

    @cached_property
    def custom_field_preprocess(self):
        formats = (self.FORMAT_CSV, self.FORMAT_XLSX)
        return {
            name: dict.fromkeys(formats, _rate_for_export) for name in self.rate_fields
        }

    @cached_property
    def cleaned_filters(self) -> dict:
        if self.filters is not None and self.filters.is_valid():
            return self.filters.form.cleaned_data
        return {}

    @cached_property
    def period(self) -> ReportPeriod:
        today = timezone.localdate()
        day_to = self.cleaned_filters.get("date_to") or today
        day_from = self.cleaned_filters.get("date_from") or (
            day_to - timedelta(days=DEFAULT_DAYS - 1)
        )
        return ReportPeriod(
            day_from=day_from,
            day_to=day_to,
            locale=self.cleaned_filters.get("locale") or None,
            channel=self.cleaned_filters.get("channel") or None,
        )

    def get_page_subtitle(self):
        return f"{self.period.day_from:%Y-%m-%d} – {self.period.day_to:%Y-%m-%d}"

    def get_filename(self):
        return f"{self.slug}-{self.period.day_from}-{self.period.day_to}"

    def get_rows(self) -> list:
        raise NotImplementedError

    def get_queryset(self):
        return self.get_rows()

    def filter_queryset(self, queryset):
        return queryset


_SEARCH_EXPORT = {
    "query": _("Query"),
    "locale": _("Locale"),
    "searches": _("Searches"),
    "no_result_searches": _("Searches with no result"),
    "clicked_searches": _("Searches with a click"),
    "unclicked_searches": _("Searches with results but no click"),
    "click_through_rate": _("Click-through rate"),
    "journeys": _("Journeys started"),
    "deflected": _("Deflected"),
    "ticketed": _("Ticketed"),
    "abandoned": _("Abandoned"),
    "deflection_rate": _("Deflection rate"),
}


class DeflectionOverTimeReport(KbReportView):
    """Deflection rate per day or week and channel, with a server-rendered chart."""

    slug = "deflection"
    page_title = _("Deflection over time")
    header_icon = "history"
    filterset_class = IntervalFilterSet
    results_template_name = "feedback/reports/deflection_results.html"
    paginate_by = 200
    list_export = [
        "period",
        "channel",
        "searches",
        "journeys",
        "deflected",
        "deflected_explicit",
        "deflected_inferred",
        "ticketed",
        "abandoned",
        "deflection_rate",
    ]
    export_headings = {
        "period": _("Period start"),
        "channel": _("Channel"),
        "searches": _("Searches"),
        "journeys": _("Journeys started"),
        "deflected": _("Deflected"),
        "deflected_explicit": _("Deflected (explicit)"),
        "deflected_inferred": _("Deflected (inferred)"),
        "ticketed": _("Ticketed"),
        "abandoned": _("Abandoned"),
        "deflection_rate": _("Deflection rate"),
    }
    columns = [
        IsoDateColumn("period", label=_("From")),
        Column("channel", label=_("Channel")),
        Column("searches", label=_("Searches")),
        Column("journeys", label=_("Journeys")),
        Column("deflected", label=_("Deflected")),
        Column("ticketed", label=_("Ticketed")),
        Column("abandoned", label=_("Abandoned")),
        PercentColumn("deflection_rate", label=_("Deflection rate")),
    ]

    @cached_property
    def weekly(self) -> bool:
        return self.cleaned_filters.get("interval") == "week"

    def get_rows(self):
        return deflection_over_time(period=self.period, weekly=self.weekly)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["chart"] = deflection_chart_svg(self.object_list)
        return context


class TopSearchesReport(KbReportView):
    slug = "top_searches"
    page_title = _("Top searches")
    header_icon = "search"
    list_export = list(_SEARCH_EXPORT)
    export_headings = _SEARCH_EXPORT
    columns = [
        Column("query", label=_("Query")),
        Column("searches", label=_("Searches")),
        PercentColumn("click_through_rate", label=_("Click-through")),
        Column("no_result_searches", label=_("No result")),
        Column("deflected", label=_("Deflected")),
        Column("ticketed", label=_("Ticketed")),
        PercentColumn("deflection_rate", label=_("Deflection rate")),
    ]

    def get_rows(self):
        return top_searches(period=self.period)


class ContentGapsReport(KbReportView):
    """Searches with no result, per query and locale, each a link to a new article."""

    slug = "content_gaps"
    page_title = _("Searches with no results")
    header_icon = "warning"
    list_export = ["query", "locale", "no_result_searches", "searches", "abandoned"]
    export_headings = _SEARCH_EXPORT
    columns = [
        Column("query", label=_("Query")),
        Column("locale", label=_("Locale")),
        Column("no_result_searches", label=_("Searches with no result")),
        Column("abandoned", label=_("Abandoned journeys")),
        TitleColumn(
            "create",
            label=_("Write an article"),
            accessor=lambda row: _("Create article"),
            get_url=_create_article_url,
        ),
    ]

    def get_rows(self):
        return content_gaps(period=self.period)


class UnclickedSearchesReport(KbReportView):
    slug = "unclicked_searches"
    page_title = _("Searches with results but no click")
    header_icon = "search"
    list_export = ["query", "unclicked_searches", "searches", "click_through_rate"]
    export_headings = _SEARCH_EXPORT
    columns = [
        Column("query", label=_("Query")),
        Column("unclicked_searches", label=_("Results shown, no click")),
        Column("searches", label=_("Searches")),
        PercentColumn("click_through_rate", label=_("Click-through")),
    ]

    def get_rows(self):
        return searches_without_clicks(period=self.period)


_ARTICLE_EXPORT = {
    "title": _("Article"),
    "article_id": _("Article id"),
    "locale": _("Locale"),
    "deflections": _("Deflections"),
    "deflections_explicit": _("Deflections (explicit)"),
    "tickets_after_reading": _("Tickets after reading"),
    "views": _("Views"),
    "clicks": _("Clicks from search"),
}
_ARTICLE_COLUMNS = [
    TitleColumn("title", label=_("Article"), get_url=_article_edit_url),
    Column("locale", label=_("Locale")),
    Column("deflections", label=_("Deflections")),
    Column("deflections_explicit", label=_("Explicit")),
    Column("tickets_after_reading", label=_("Tickets after reading")),
    Column("views", label=_("Views")),
    Column("clicks", label=_("Clicks from search")),
]


class ArticleDeflectionsReport(KbReportView):
    slug = "article_deflections"
    page_title = _("Articles by deflections")
    header_icon = "doc-full"
    list_export = list(_ARTICLE_EXPORT)
    export_headings = _ARTICLE_EXPORT
    columns = _ARTICLE_COLUMNS

    def get_rows(self):
        return articles_by_deflections(period=self.period)


class ArticlesBeforeTicketReport(KbReportView):
    slug = "articles_before_ticket"
    page_title = _("Articles read before a ticket")
    header_icon = "doc-full"
    list_export = [
        "title",
        "article_id",
        "locale",
        "tickets_after_reading",
        "deflections",
        "views",
    ]
    export_headings = _ARTICLE_EXPORT
    columns = [
        _ARTICLE_COLUMNS[0],
        _ARTICLE_COLUMNS[1],
        _ARTICLE_COLUMNS[4],
        _ARTICLE_COLUMNS[2],
        _ARTICLE_COLUMNS[5],
    ]

    def get_rows(self):
        return articles_before_tickets(period=self.period)


class LeastHelpfulReport(KbReportView):
    slug = "least_helpful"
    page_title = _("Least helpful articles")
    header_icon = "comment"
    filterset_class = VotePeriodFilterSet
    list_export = [
        "title",
        "article_id",
        "locale",
        "up",
        "down",
        "helpful_share",
        "wilson_lower",
        "reasons_text",
        "comments_text",
    ]
    export_headings = {
        "title": _("Article"),
        "article_id": _("Article id"),
        "locale": _("Locale"),
        "up": _("Helpful"),
        "down": _("Not helpful"),
        "helpful_share": _("Helpful share"),
        "wilson_lower": _("Helpful share, 95% lower bound"),
        "reasons_text": _("Reasons"),
        "comments_text": _("Newest comments"),
    }
    rate_fields = ("helpful_share", "wilson_lower")
    columns = [
        TitleColumn("title", label=_("Article"), get_url=_article_edit_url),
        Column("locale", label=_("Locale")),
        Column("up", label=_("Yes")),
        Column("down", label=_("No")),
        PercentColumn("wilson_lower", label=_("Helpful (lower bound)")),
        Column("reasons_text", label=_("Reasons")),
        # Plain text: the cell template escapes it.
        Column("comments_text", label=_("Newest comments")),
    ]

    def get_rows(self):
        return least_helpful_articles(period=self.period)


class StaleArticlesReport(KbReportView):
    slug = "stale_articles"
    page_title = _("Stale articles")
    header_icon = "time"
    filterset_class = LocaleFilterSet
    list_export = ["title", "pk", "locale.language_code", "last_reviewed", "url"]
    export_headings = {
        "title": _("Article"),
        "pk": _("Article id"),
        "locale.language_code": _("Locale"),
        "last_reviewed": _("Last reviewed"),
        "url": _("URL"),
    }
    columns = [
        TitleColumn("title", label=_("Article"), url_name="wagtailadmin_pages:edit"),
        Column("locale", label=_("Locale"), accessor="locale.language_code"),
        IsoDateColumn("last_reviewed", label=_("Last reviewed")),
    ]

    def get_page_subtitle(self):
        return _("Not reviewed within %(days)s days") % {"days": self.stale_after_days}

    def get_filename(self):
        return self.slug

    @cached_property
    def stale_after_days(self) -> int:
        return getattr(settings, "KB_STALE_AFTER_DAYS", 180)

    def get_rows(self):
        locale = self.cleaned_filters.get("locale")
        return article_list_stale(
            stale_after_days=self.stale_after_days,
            locale=locale_get(language_code=locale) if locale else None,
        )


class OutdatedTranslationsReport(KbReportView):
    slug = "outdated_translations"
    page_title = _("Outdated translations")
    header_icon = "globe"
    filterset_class = LocaleFilterSet
    list_export = [
        "title",
        "pk",
        "locale.language_code",
        "last_published_at",
        "source_id",
        "source_published_at",
    ]
    export_headings = {
        "title": _("Translation"),
        "pk": _("Article id"),
        "locale.language_code": _("Locale"),
        "last_published_at": _("Translation published"),
        "source_id": _("Source article id"),
        "source_published_at": _("Source changed"),
    }
    columns = [
        TitleColumn(
            "title", label=_("Translation"), url_name="wagtailadmin_pages:edit"
        ),
        Column("locale", label=_("Locale"), accessor="locale.language_code"),
        DateColumn("last_published_at", label=_("Translation published")),
        TitleColumn(
            "source",
            label=_("Source"),
            accessor=lambda page: _("Source article"),
            get_url=lambda page: reverse(
                "wagtailadmin_pages:edit", args=(page.source_id,)
            ),
        ),
        DateColumn("source_published_at", label=_("Source changed")),
    ]

    def get_page_subtitle(self):
        return _("The source article changed after the translation")

    def get_filename(self):
        return self.slug

    def get_rows(self):
        locale = self.cleaned_filters.get("locale")
        return article_list_outdated_translations(
            locale=locale_get(language_code=locale) if locale else None
        )


REPORTS = [
    DeflectionOverTimeReport,
    TopSearchesReport,
    ContentGapsReport,
    UnclickedSearchesReport,
    ArticleDeflectionsReport,
    ArticlesBeforeTicketReport,
    LeastHelpfulReport,
    StaleArticlesReport,
    OutdatedTranslationsReport,
]


def create_article_for_query(request):
    """Opens the admin's new-article form with the query as its title, in the first
    category of the query's locale (the writer can move it)."""
    if not can_view_reports(request.user):
        raise PermissionDenied
    query = request.GET.get("query", "").strip()[:255]
    locale = locale_get(language_code=request.GET.get("locale") or "") or locale_get(
        language_code=settings.LANGUAGE_CODE
    )
    home = help_center_for_locale(locale=locale) if locale else None
    category = category_list_live(parent=home).first() if home else None
    if category is None:
        messages.error(
            request, _("This locale has no category to put a new article in yet.")
        )
        return redirect("kb_reports:content_gaps")
    title = query[:1].upper() + query[1:]
    url = reverse(
        "wagtailadmin_pages:add",
        args=(ArticlePage._meta.app_label, ArticlePage._meta.model_name, category.pk),
    )
    return redirect(f"{url}?{urlencode({'title': title})}" if title else url)


# --- the chart ---

_CHART_COLOURS = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#57606a"]
_W, _H, _PAD = 640, 220, 36


def deflection_chart_svg(rows: list[dict]) -> str:
    """An inline SVG line chart of the deflection rate per period, a line per channel
    and one for all channels; no JavaScript. All labels are escaped."""
    periods = sorted({r["period"] for r in rows})
    if not periods:
        return ""
    series: dict[str, dict[date, list[int]]] = {}
    for row in rows:
        for name in (_("All channels"), row["channel"]):
            point = series.setdefault(str(name), {}).setdefault(row["period"], [0, 0])
            point[0] += row["deflected"]
            point[1] += row["deflected"] + row["ticketed"]
    step = (_W - 2 * _PAD) / max(1, len(periods) - 1)

    def x(i: int) -> float:
        return _PAD + i * step if len(periods) > 1 else _W / 2

    def y(rate: float) -> float:
        return _H - _PAD - rate * (_H - 2 * _PAD)

    parts = []
    for level in (0, 0.5, 1):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d0d7de"/>'
                '<text x="4" y="{}" font-size="11">{}%</text>',
                _PAD,
                _W - _PAD,
                f"{y(level):.1f}",
                f"{y(level):.1f}",
                f"{y(level) + 4:.1f}",
                int(level * 100),
            )
        )
    parts.append(
        format_html(
            '<text x="{}" y="{}" font-size="11">{}</text>'
            '<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>',
            _PAD,
            _H - 8,
            periods[0].isoformat(),
            _W - _PAD,
            _H - 8,
            periods[-1].isoformat(),
        )
    )
    legend = []
    for n, (name, points) in enumerate(series.items()):
        colour = _CHART_COLOURS[n % len(_CHART_COLOURS)]
        coords = [
            (x(i), y(points[p][0] / points[p][1]))
            for i, p in enumerate(periods)
            if p in points and points[p][1]
        ]
        if not coords:
            continue
        width = 3 if n == 0 else 1.5
        parts.append(
            format_html(
                '<polyline fill="none" stroke="{}" stroke-width="{}" points="{}"/>',
                colour,
                width,
                " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords),
            )
        )
        parts.append(
            format_html_join(
                "",
                '<circle cx="{}" cy="{}" r="2.5" fill="{}"/>',
                ((f"{cx:.1f}", f"{cy:.1f}", colour) for cx, cy in coords),
            )
        )
        legend.append((colour, name))
    legend_html = format_html_join(
        "",
        '<li><span style="display:inline-block;width:12px;height:12px;'
        'background:{};margin-inline-end:4px"></span>{}</li>',
        legend,
    )
    return format_html(
        '<figure class="kb-chart"><svg xmlns="http://www.w3.org/2000/svg" '
        'viewBox="0 0 {} {}" width="100%" style="max-width:{}px" role="img" '
        'aria-label="{}">{}</svg><figcaption><ul style="display:flex;gap:1rem;'
        'list-style:none;padding:0">{}</ul></figcaption></figure>',
        _W,
        _H,
        _W,
        _("Deflection rate over time"),
        mark_safe("".join(parts)),  # noqa: S308 - each part is built by format_html
        legend_html,
    )


# --- the home dashboard panel ---


class DeflectionDashboardPanel(Component):
    """This week's deflection rate, tickets avoided and top three content gaps."""

    name = "kb_deflection"
    template_name = "feedback/reports/dashboard_panel.html"
    order = 50

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        figures = dashboard_figures()
        context["summary"] = figures.summary
        context["gaps"] = [
            {**gap, "create_url": _create_article_url(gap)} for gap in figures.gaps
        ]
        return context
