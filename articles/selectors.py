"""Reads of the page tree. Visibility lives here: every public list starts from
`.live().public()`, so no caller can leak a draft or a private page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from wagtail.models import Locale, Page

from articles.models import ArticleAudience, ArticlePage, CategoryPage, HelpCenterPage

# The largest primary key a (64-bit) database id can hold.
MAX_ID = 2**63 - 1


def locale_get(*, language_code: str) -> Locale | None:
    """The Locale for a language code, or None when the site has no such locale."""
    return Locale.objects.filter(language_code=language_code).first()


def default_locale() -> Locale:
    return Locale.objects.get(language_code=settings.LANGUAGE_CODE)


def help_center_for_locale(*, locale: Locale) -> HelpCenterPage | None:
    """The live help-center home page of a locale."""
    return HelpCenterPage.objects.live().public().filter(locale=locale).first()


def category_list_live(*, parent: Page) -> QuerySet[CategoryPage]:
    """Live categories under a help-center home, in their writer-set order."""
    return (
        CategoryPage.objects.child_of(parent).live().public().order_by("order", "title")
    )


def article_list_live(
    *,
    locale: Locale | None = None,
    category: CategoryPage | None = None,
    include_internal: bool = False,
) -> QuerySet[ArticlePage]:
    """Live, public articles, optionally of one locale and one category.

    Internal (agents-only) articles are left out unless `include_internal` is set,
    which only agent-facing callers (the agent API) may do.
    """
    qs = ArticlePage.objects.live().public()
    if not include_internal:
        qs = qs.filter(audience=ArticleAudience.PUBLIC)
    if locale is not None:
        qs = qs.filter(locale=locale)
    if category is not None:
        qs = qs.child_of(category)
    return qs.order_by("title")


def article_list_popular(*, locale: Locale, limit: int = 8) -> list[ArticlePage]:
    """The articles to show first in a locale: FAQs, then the most recently reviewed."""
    qs = article_list_live(locale=locale).order_by("-kind", "-last_reviewed", "title")
    faqs = list(qs.filter(kind="faq")[:limit])
    rest = list(qs.exclude(pk__in=[a.pk for a in faqs])[: max(0, limit - len(faqs))])
    return faqs + rest


def article_get_live(
    *, locale: Locale, slug: str, include_internal: bool = False
) -> ArticlePage | None:
    """The live article with this slug in a locale (customer-visible unless
    `include_internal`), or None."""
    return (
        article_list_live(locale=locale, include_internal=include_internal)
        .filter(slug=slug)
        .first()
    )


def article_get_live_by_id(
    *, article_id: int, include_internal: bool = False
) -> ArticlePage | None:
    """The live article with this id (customer-visible unless `include_internal`)."""
    if not 0 < article_id <= MAX_ID:
        # Ids from URLs and API bodies: past 64 bits the database can't even compare.
        return None
    return (
        article_list_live(include_internal=include_internal)
        .filter(pk=article_id)
        .select_related("locale")
        .first()
    )


def article_list_changed(
    *,
    locale: Locale | None = None,
    category_slug: str | None = None,
    kind: str | None = None,
    updated_since=None,
) -> QuerySet[ArticlePage]:
    """Customer-visible live articles in publication order (oldest change first), for
    clients that keep a copy in sync: filter by locale, category slug, kind, and
    last publication at or after `updated_since`."""
    qs = article_list_live(locale=locale).select_related("locale")
    if category_slug:
        categories = CategoryPage.objects.filter(slug=category_slug)
        if locale is not None:
            categories = categories.filter(locale=locale)
        under = Q()
        for path, depth in categories.values_list("path", "depth"):
            under |= Q(path__startswith=path, depth=depth + 1)
        if not under:
            return qs.none()
        qs = qs.filter(under)
    if kind:
        qs = qs.filter(kind=kind)
    if updated_since is not None:
        qs = qs.filter(last_published_at__gte=updated_since)
    return qs.order_by("last_published_at", "pk")


def article_url_resolver(*, locale: Locale) -> Callable[[str], str | None]:
    """A function mapping an article slug to its URL in `locale`, falling back to the
    default locale's article when it is not translated; None when there is none."""
    urls: dict[str, str | None] = {}

    def resolve(slug: str) -> str | None:
        if slug not in urls:
            article = article_get_live(locale=locale, slug=slug)
            if article is None and locale.language_code != settings.LANGUAGE_CODE:
                article = article_get_live(locale=default_locale(), slug=slug)
            urls[slug] = article.get_url() if article else None
        return urls[slug]

    return resolve


def article_breadcrumbs(*, article: ArticlePage) -> list[Page]:
    """The pages between the help-center home (included) and the article (excluded)."""
    return list(article.get_ancestors().filter(depth__gt=1).specific())


def article_related_live(*, article: ArticlePage) -> list[ArticlePage]:
    return list(
        article.related_articles.live()
        .public()
        .filter(locale=article.locale, audience=ArticleAudience.PUBLIC)
        .order_by("title")
    )


def article_translations_live(
    *, article: ArticlePage, include_internal: bool = False
) -> list[ArticlePage]:
    """Live translations of an article (itself included), ordered as the site's locales;
    internal translations only with `include_internal`."""
    order = {
        code: i for i, (code, _name) in enumerate(settings.WAGTAIL_CONTENT_LANGUAGES)
    }
    pages = (
        article_list_live(include_internal=include_internal)
        .filter(translation_key=article.translation_key)
        .select_related("locale")
    )
    return sorted(pages, key=lambda p: order.get(p.locale.language_code, 99))


# --- reports: writers' maintenance queues ---


def article_list_stale(
    *, stale_after_days: int, today: date | None = None, locale: Locale | None = None
) -> QuerySet[ArticlePage]:
    """Live articles never reviewed, or last reviewed before today - stale_after_days;
    never-reviewed and oldest first."""
    today = today or timezone.localdate()
    qs = ArticlePage.objects.live().filter(
        Q(last_reviewed__isnull=True)
        | Q(last_reviewed__lt=today - timedelta(days=stale_after_days))
    )
    if locale is not None:
        qs = qs.filter(locale=locale)
    return qs.select_related("locale").order_by(
        F("last_reviewed").asc(nulls_first=True), "title"
    )


def article_list_outdated_translations(
    *, locale: Locale | None = None
) -> QuerySet[ArticlePage]:
    """Live translations whose source article (same translation key, default locale)
    was published after them; annotated with source_id and source_published_at."""
    sources = ArticlePage.objects.filter(
        translation_key=OuterRef("translation_key"),
        locale__language_code=settings.LANGUAGE_CODE,
    )
    qs = (
        ArticlePage.objects.live()
        .exclude(locale__language_code=settings.LANGUAGE_CODE)
        .annotate(
            source_id=Subquery(sources.values("pk")[:1]),
            source_published_at=Subquery(sources.values("last_published_at")[:1]),
        )
        .filter(
            Q(last_published_at__isnull=True)
            | Q(source_published_at__gt=F("last_published_at")),
            source_published_at__isnull=False,
        )
    )
    if locale is not None:
        qs = qs.filter(locale=locale)
    return qs.select_related("locale").order_by("source_published_at", "title")
