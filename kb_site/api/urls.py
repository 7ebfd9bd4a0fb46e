"""The public API, /api/v1/: one module per resource."""

from django.urls import path

from kb_site.api import events, search

app_name = "api"

urlpatterns = [
    path("search", search.ArticleSearchApi.as_view(), name="search"),
    path("suggest", search.ArticleSuggestApi.as_view(), name="suggest"),
    path("events", events.EventBatchCreateApi.as_view(), name="events"),
]
