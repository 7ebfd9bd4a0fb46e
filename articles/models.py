"""The page tree: HelpCenterPage (one per locale) > CategoryPage > ArticlePage."""

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.models import Page
from wagtail.search import index

SUMMARY_MAX_LENGTH = 300


class ArticleKind(models.TextChoices):
    GUIDE = "guide", _("Guide")
    FAQ = "faq", _("FAQ")
    TROUBLESHOOTING = "troubleshooting", _("Troubleshooting")


class ArticleAudience(models.TextChoices):
    PUBLIC = "public", _("Customers (public)")
    INTERNAL = "internal", _("Support agents only (internal)")


class HelpCenterPage(Page):
    """The home page of the help center in one locale."""

    intro = models.TextField(blank=True, help_text=_("Shown under the search box."))

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["articles.CategoryPage"]
    template = "articles/help_center_page.html"

    class Meta:
        verbose_name = _("help center home")

    def get_context(self, request, *args, **kwargs):
        from articles.selectors import article_list_popular, category_list_live

        context = super().get_context(request, *args, **kwargs)
        context["categories"] = category_list_live(parent=self)
        context["popular_articles"] = article_list_popular(locale=self.locale, limit=8)
        return context


class CategoryPage(Page):
    """A group of articles, such as "Billing and refunds"."""

    description = models.TextField(blank=True)
    order = models.IntegerField(default=0, help_text=_("Lower numbers come first."))

    content_panels = Page.content_panels + [
        FieldPanel("description"),
        FieldPanel("order"),
    ]
    parent_page_types = ["articles.HelpCenterPage"]
    subpage_types = ["articles.ArticlePage"]
    template = "articles/category_page.html"

    search_fields = Page.search_fields + [index.SearchField("description")]

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def get_context(self, request, *args, **kwargs):
        from articles.selectors import article_list_live

        context = super().get_context(request, *args, **kwargs)
        context["articles"] = article_list_live(locale=self.locale, category=self)
        return context


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "articles.ArticlePage", related_name="tagged_items", on_delete=models.CASCADE
    )


class ArticlePageForm(WagtailAdminPageForm):
    """The admin form: reports `article:` links that resolve to no article, by slug."""

    def clean(self):
        cleaned = super().clean()
        from articles.markdown import markdown_render
        from articles.selectors import article_url_resolver

        locale = getattr(self.instance, "locale", None) or (
            self.parent_page.locale if self.parent_page else None
        )
        if locale is not None and cleaned.get("body"):
            broken = markdown_render(
                cleaned["body"], resolve_article=article_url_resolver(locale=locale)
            ).broken_links
            if broken:
                slugs = ", ".join(f"article:{slug}" for slug in dict.fromkeys(broken))
                self.add_error(
                    "body",
                    _("These article links point to no published article: %(slugs)s")
                    % {"slugs": slugs},
                )
        return cleaned


class ArticlePage(Page):
    """A help article written in Markdown: a guide, an FAQ or a troubleshooting page."""

    base_form_class = ArticlePageForm

    summary = models.CharField(
        max_length=SUMMARY_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(SUMMARY_MAX_LENGTH)],
        help_text=_(
            "Plain text, at most 300 characters: shown in results, the widget and to bots."
        ),
    )
    kind = models.CharField(
        max_length=20, choices=ArticleKind.choices, default=ArticleKind.GUIDE
    )
    body = models.TextField(
        blank=True,
        help_text=_("Markdown. Link other articles with [text](article:slug)."),
    )
    tags = ClusterTaggableManager(through="articles.ArticlePageTag", blank=True)
    related_articles = ParentalManyToManyField("articles.ArticlePage", blank=True)
    last_reviewed = models.DateField(null=True, blank=True)
    audience = models.CharField(
        max_length=10,
        choices=ArticleAudience.choices,
        default=ArticleAudience.PUBLIC,
        help_text=_(
            "Internal articles are for support agents only: customers never see them "
            "in pages, search, suggestions, the sitemap or the public API."
        ),
    )
    source_path = models.CharField(
        max_length=500,
        blank=True,
        editable=False,
        help_text=_(
            "The content file this article was imported from; empty when written in the admin."
        ),
    )

    body_text = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text=_(
            "The body as plain text, kept on save for search snippets and bot answers."
        ),
    )

    content_panels = Page.content_panels + [
        FieldPanel(
            "summary",
            widget=forms.Textarea(attrs={"rows": 3, "maxlength": SUMMARY_MAX_LENGTH}),
        ),
        FieldPanel("kind"),
        FieldPanel("audience"),
        FieldPanel(
            "body",
            widget=forms.Textarea(attrs={"rows": 30, "class": "kb-markdown-editor"}),
        ),
        MultiFieldPanel(
            [
                FieldPanel("tags"),
                FieldPanel(
                    "related_articles", widget=forms.SelectMultiple(attrs={"size": 8})
                ),
                FieldPanel("last_reviewed"),
            ],
            heading=_("Metadata"),
        ),
    ]
    parent_page_types = ["articles.CategoryPage"]
    subpage_types: list[str] = []
    template = "articles/article_page.html"

    # Title highest, then summary and tags, then body. Kitsune's weights (keywords 8,
    # title 6, summary 4, content 2) were the starting point; a title 3 times the body
    # let a title-only match outrank better bodies (and a title's words also have a
    # high idf in their own field), so the measured ones are flatter: title 1.5 times
    # the body (docs/search-quality.md). Later entries replace Page's own title field.
    search_fields = Page.search_fields + [
        index.SearchField("title", boost=3),
        index.SearchField("summary", boost=2.5),
        index.SearchField("body", boost=2),
        # An FAQ whose question matches the query gets a lift (search quality).
        index.SearchField("faq_question", boost=3),
        index.RelatedFields(
            "tags", [index.SearchField("name", boost=2.5), index.FilterField("slug")]
        ),
        index.FilterField("kind"),
        index.FilterField("audience"),
    ]

    class Meta:
        verbose_name = _("article")

    def get_template(self, request, *args, **kwargs):
        return getattr(settings, "KB_ARTICLE_TEMPLATE", self.template)

    def faq_question(self) -> str:
        """An FAQ's question (its title), indexed apart so that it weighs more."""
        return self.title if self.kind == ArticleKind.FAQ else ""

    @property
    def category(self):
        return self.get_parent().specific

    @property
    def is_internal(self) -> bool:
        return self.audience == ArticleAudience.INTERNAL

    def serve(self, request, *args, **kwargs):
        # Internal articles are for support agents: customers get the site's 404,
        # signed-in editors who may edit the page see it (never cached, never indexed).
        if not self.is_internal:
            return super().serve(request, *args, **kwargs)
        user = getattr(request, "user", None)
        if not (
            user is not None
            and user.is_authenticated
            and self.permissions_for_user(user).can_edit()
        ):
            raise Http404
        response = super().serve(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
        return response

    def save(self, *args, **kwargs):
        from articles.markdown import markdown_render

        update_fields = kwargs.get("update_fields")
        if update_fields is None or "body" in update_fields:
            self.body_text = markdown_render(self.body).text
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "body_text"}
        return super().save(*args, **kwargs)

    def body_plain(self) -> str:
        """The body as plain text (links as their text, no markup)."""
        if self.body_text or not self.body:
            return self.body_text
        from articles.markdown import article_body_render

        return article_body_render(article=self).text

    def body_html(self) -> str:
        from articles.markdown import article_body_render

        return article_body_render(article=self).html

    def get_context(self, request, *args, **kwargs):
        from articles.markdown import article_body_render
        from articles.selectors import (
            article_breadcrumbs,
            article_related_live,
            article_translations_live,
        )

        context = super().get_context(request, *args, **kwargs)
        rendered = article_body_render(article=self)
        context["body_html"] = rendered.html
        context["toc"] = rendered.toc_tokens
        # A table of contents helps long guides only: three headings or more.
        context["show_toc"] = (
            len(rendered.toc_tokens)
            + sum(len(t["children"]) for t in rendered.toc_tokens)
            >= 3
        )
        context["breadcrumbs"] = article_breadcrumbs(article=self)
        context["related"] = article_related_live(article=self)
        context["translations"] = article_translations_live(article=self)
        return context
