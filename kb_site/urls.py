from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from feedback import views as feedback_views
from kb_site import contact, views
from kb_site.api.not_found import ApiNotFoundView
from kb_site.sitemaps import HelpCenterSitemap

# A database outage outside a view is a 503 with a clear message, not a bare 500.
handler500 = "kb_site.db_errors.server_error"

urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("sitemap.xml", sitemap, {"sitemaps": {"pages": HelpCenterSitemap}}),
    path("healthz", views.healthz, name="healthz"),
    path("widget-demo/", views.widget_demo, name="widget_demo"),
    path("api/v1/", include("kb_site.api.urls")),
    # Any other /api/ path: a JSON 404, not the site's page (nor a redirect to it).
    re_path(r"^api/", ApiNotFoundView.as_view()),
    path("feedback/", include("feedback.urls")),
    path("l/<str:token>", feedback_views.agent_link_follow, name="agent_link"),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += i18n_patterns(
    path("search/", views.search_page, name="search"),
    path("contact/", contact.contact_page, name="contact"),
    path("contact/thanks/", contact.contact_thanks, name="contact_thanks"),
    path("", include(wagtail_urls)),
    prefix_default_language=True,
)
