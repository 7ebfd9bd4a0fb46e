"""sitemap.xml listing the live, public pages of every locale."""

from wagtail.contrib.sitemaps import Sitemap
from wagtail.models import Page

from articles.models import ArticleAudience, ArticlePage, HelpCenterPage


class HelpCenterSitemap(Sitemap):
    def items(self):
        roots = HelpCenterPage.objects.live().public()
        pages = Page.objects.none()
        for root in roots:
            pages |= Page.objects.descendant_of(root, inclusive=True)
        # Internal (agents-only) articles are never listed for customers or crawlers.
        internal = ArticlePage.objects.exclude(audience=ArticleAudience.PUBLIC)
        return (
            pages.live()
            .public()
            .exclude(pk__in=internal.values("pk"))
            .order_by("path")
            .defer_streamfields()
            .specific()
        )
