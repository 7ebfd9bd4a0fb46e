"""Reads of the page tree. Visibility lives here: every public list starts from
`.live().public()`, so no caller can leak a draft or a private page."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db.models import QuerySet
from wagtail.models import Locale, Page

from articles.models import ArticlePage, CategoryPage, HelpCenterPage


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
    *, locale: Locale | None = None, category: CategoryPage | None = None
) -> QuerySet[ArticlePage]:
    """Live, public articles, optionally of one locale and one category."""
    qs = ArticlePage.objects.live().public()
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


def article_get_live(*, locale: Locale, slug: str) -> ArticlePage | None:
    return article_list_live(locale=locale).filter(slug=slug).first()


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
        .filter(locale=article.locale)
        .order_by("title")
    )


def article_translations_live(*, article: ArticlePage) -> list[ArticlePage]:
    """Live translations of an article (itself included), ordered as the site's locales."""
    order = {
        code: i for i, (code, _name) in enumerate(settings.WAGTAIL_CONTENT_LANGUAGES)
    }
    pages = (
        ArticlePage.objects.live()
        .public()
        .filter(translation_key=article.translation_key)
        .select_related("locale")
    )
    return sorted(pages, key=lambda p: order.get(p.locale.language_code, 99))
