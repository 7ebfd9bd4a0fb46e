"""The public API, /api/v1/: one module per resource."""

from django.urls import path

from kb_site.api import agent, answer, events, search, votes
from kb_site.api import articles as articles_api
from kb_site.api import contact as contact_api
from kb_site.api import stats as stats_api
from kb_site.api import tickets as tickets_api
from kb_site.api.docs import ApiDocsView, ApiSchemaView

app_name = "api"

urlpatterns = [
    path("search", search.ArticleSearchApi.as_view(), name="search"),
    path("suggest", search.ArticleSuggestApi.as_view(), name="suggest"),
    path("events", events.EventBatchCreateApi.as_view(), name="events"),
    path(
        "stats/deflection",
        stats_api.DeflectionStatsApi.as_view(),
        name="stats_deflection",
    ),
    path("tickets", tickets_api.TicketWebhookApi.as_view(), name="tickets"),
    path("contact", contact_api.ContactCreateApi.as_view(), name="contact"),
    path("schema/", ApiSchemaView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    path("articles", articles_api.ArticleListApi.as_view(), name="articles"),
    path(
        "articles/<int:article_id>",
        articles_api.ArticleDetailApi.as_view(),
        name="article",
    ),
    path(
        "articles/<int:article_id>/votes",
        votes.VoteCreateApi.as_view(),
        name="article_votes",
    ),
    path(
        "articles/<str:locale>/<str:slug>",
        articles_api.ArticleBySlugApi.as_view(),
        name="article_by_slug",
    ),
    path("answer", answer.AnswerApi.as_view(), name="answer"),
    path("agent/search", agent.AgentSearchApi.as_view(), name="agent_search"),
    path("agent/links", agent.AgentLinkCreateApi.as_view(), name="agent_links"),
]
