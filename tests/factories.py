"""Factories for small page trees; tests build what they need rather than loading the demo."""

import factory
import wagtail_factories
from wagtail.models import Locale

from articles.models import ArticlePage, CategoryPage, HelpCenterPage
from articles.services import help_center_ensure, locales_sync


def help_center(language_code: str = "en", **kwargs) -> HelpCenterPage:
    """The (live) help-center home of a locale, created with its Locale when missing."""
    locales_sync()
    return help_center_ensure(
        locale=Locale.objects.get(language_code=language_code), **kwargs
    )


class CategoryPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    description = "A group of articles."
    live = True

    class Meta:
        model = CategoryPage


class ArticlePageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Article {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    summary = "A short summary."
    kind = "guide"
    body = "Some **Markdown** text."
    live = True

    class Meta:
        model = ArticlePage


def category(home: HelpCenterPage, **kwargs) -> CategoryPage:
    page = CategoryPageFactory.build(locale=home.locale, **kwargs)
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


def article(parent: CategoryPage, **kwargs) -> ArticlePage:
    tags = kwargs.pop("tags", None)
    page = ArticlePageFactory.build(locale=parent.locale, **kwargs)
    parent.add_child(instance=page)
    if tags:
        page.tags.set(tags)
    page.save_revision().publish()
    return page
