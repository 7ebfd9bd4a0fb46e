"""sitemap.xml listing the live, public pages of every locale."""

from wagtail.contrib.sitemaps import Sitemap
from wagtail.models import Page

from articles.models import HelpCenterPage


class HelpCenterSitemap(Sitemap):
    def items(self):
        roots = HelpCenterPage.objects.live().public()
        pages = Page.objects.none()
        for root in roots:
            pages |= Page.objects.descendant_of(root, inclusive=True)
        return pages.live().public().order_by("path").defer_streamfields().specific()
