"""KB_SEARCH_BACKEND switches the search backend with no code change.

Whoosh is tested everywhere else. Here: Wagtail's database backend runs the project's
real searches (on PostgreSQL under `make test-postgres`, on SQLite's FTS otherwise),
and the Elasticsearch/OpenSearch settings load Wagtail's backend classes, which map
ArticlePage and compile the project's filtered queries (no server runs here).
"""

import os
import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from modelsearch.query import PlainText
from wagtail.search.backends import get_search_backend

from articles.models import ArticlePage
from search.selectors import article_search
from tests import factories

BASE_SETTINGS = Path(__file__).resolve().parents[2] / "kb_site" / "settings" / "base.py"


def settings_for(monkeypatch, tmp_path, **env) -> dict:
    """kb_site/settings/base.py evaluated afresh under the given environment."""
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path / "data"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE_SETTINGS))


@pytest.fixture
def articles(db):
    home = factories.help_center("en")
    account = factories.category(home, title="Account", slug="account")
    return {
        "locale": home.locale,
        "reset": factories.article(
            account,
            title="Reset your password",
            slug="reset-your-password",
            summary="Choose a new password with a reset link.",
            body="Open the sign-in page and select Forgot password.",
            kind="troubleshooting",
        ),
        "invoice": factories.article(
            account,
            title="Understand your invoice",
            slug="understand-your-invoice",
            summary="Each line of your monthly bill.",
            body="Your invoice lists fees and refunds.",
        ),
    }


# --- the settings switch -----------------------------------------------------------


@pytest.mark.parametrize(
    "name, backend",
    [
        ("whoosh", "search.backends.whoosh"),
        ("database", "wagtail.search.backends.database"),
        ("elasticsearch", "wagtail.search.backends.elasticsearch8"),
        ("opensearch", "modelsearch.backends.opensearch3"),
    ],
)
def test_kb_search_backend_picks_the_backend(monkeypatch, tmp_path, name, backend):
    values = settings_for(monkeypatch, tmp_path, KB_SEARCH_BACKEND=name)
    assert values["WAGTAILSEARCH_BACKENDS"]["default"]["BACKEND"] == backend


def test_search_url_and_prefix_reach_the_elasticsearch_backend(monkeypatch, tmp_path):
    values = settings_for(
        monkeypatch,
        tmp_path,
        KB_SEARCH_BACKEND="elasticsearch",
        KB_SEARCH_URL="http://es-1:9200,http://es-2:9200",
        KB_SEARCH_INDEX_PREFIX="help_",
    )
    with override_settings(WAGTAILSEARCH_BACKENDS=values["WAGTAILSEARCH_BACKENDS"]):
        backend = get_search_backend()
    assert [(h["host"], h["port"]) for h in backend.hosts] == [
        ("es-1", 9200),
        ("es-2", 9200),
    ]
    assert backend.get_index_for_model(ArticlePage).name == "help_wagtailcore_page"


@pytest.mark.parametrize(
    ("env", "procs"),
    [({}, min(2, os.cpu_count() or 1)), ({"KB_SEARCH_REBUILD_PROCS": "1"}, 1)],
)
def test_rebuild_procs_reach_the_whoosh_backend(monkeypatch, tmp_path, env, procs):
    monkeypatch.delenv("KB_SEARCH_REBUILD_PROCS", raising=False)
    values = settings_for(monkeypatch, tmp_path, KB_SEARCH_BACKEND="whoosh", **env)
    with override_settings(WAGTAILSEARCH_BACKENDS=values["WAGTAILSEARCH_BACKENDS"]):
        assert get_search_backend().rebuild_procs == procs


def test_an_unknown_backend_name_is_a_clear_configuration_error(monkeypatch, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="choose one of database"):
        settings_for(monkeypatch, tmp_path, KB_SEARCH_BACKEND="solr")


# --- Wagtail's database backend runs the project's searches ------------------------


@pytest.fixture
def database_backend(settings, monkeypatch, tmp_path):
    """What KB_SEARCH_BACKEND=database configures, in place of the tests' Whoosh."""
    values = settings_for(monkeypatch, tmp_path, KB_SEARCH_BACKEND="database")
    settings.WAGTAILSEARCH_BACKENDS = values["WAGTAILSEARCH_BACKENDS"]


def test_database_backend_is_the_one_for_the_running_database(database_backend):
    backend = type(get_search_backend()).__module__
    assert backend.startswith(
        {
            "postgresql": "modelsearch.backends.database.postgres",
            "sqlite": "modelsearch.backends.database.sqlite",
        }[connection.vendor]
    )


def test_database_backend_finds_a_published_article(database_backend, articles):
    # The articles were published after the switch: Wagtail's own signal handlers
    # indexed them into the database backend's index table.
    result = article_search(query="password", locale=articles["locale"])

    assert [hit.article.pk for hit in result.hits] == [articles["reset"].pk]
    assert result.count == 1
    assert "<mark>" in result.hits[0].snippet


def test_database_backend_drops_an_unpublished_article(database_backend, articles):
    articles["reset"].unpublish()

    result = article_search(query="password", locale=articles["locale"])

    assert result.hits == []


def test_database_backend_serves_the_search_api(database_backend, articles, client):
    response = client.get("/api/v1/search", {"q": "invoice", "locale": "en"})

    assert response.status_code == 200
    body = response.json()
    assert [hit["id"] for hit in body["results"]] == [articles["invoice"].pk]
    assert body["search_id"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="stemming in the database backend comes from PostgreSQL's full-text "
    "search; SQLite's FTS matches whole words only (runs under make test-postgres)",
)
def test_database_backend_on_postgresql_stems_english(database_backend, articles):
    result = article_search(query="passwords", locale=articles["locale"])

    assert [hit.article.pk for hit in result.hits] == [articles["reset"].pk]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Wagtail's database backend has fuzzy matching on PostgreSQL only "
    "(pg_trgm); on SQLite article_search skips its fuzzy retry",
)
def test_database_backend_on_postgresql_finds_a_misspelt_word(
    database_backend, articles
):
    result = article_search(query="pasword", locale=articles["locale"])

    assert [hit.article.pk for hit in result.hits] == [articles["reset"].pk]


# --- Elasticsearch and OpenSearch: classes load and map the article model ----------

SERVER_BACKENDS = [
    pytest.param(
        ("wagtail.search.backends.elasticsearch8", "Elasticsearch8SearchBackend"),
        id="elasticsearch8",
    ),
    pytest.param(
        ("modelsearch.backends.opensearch3", "OpenSearch3SearchBackend"),
        id="opensearch3",
    ),
]


@pytest.fixture
def server_backend(request):
    path, class_name = request.param
    config = {
        "default": {
            "BACKEND": path,
            "URLS": ["http://127.0.0.1:9200"],
            "INDEX_PREFIX": "kb_",
        }
    }
    with override_settings(WAGTAILSEARCH_BACKENDS=config):
        backend = get_search_backend()
    assert type(backend).__name__ == class_name
    return backend


@pytest.mark.parametrize("server_backend", SERVER_BACKENDS, indirect=True)
def test_server_backend_maps_the_article_fields(server_backend):
    properties = server_backend.mapping_class(ArticlePage).get_mapping()["properties"]

    # Searched text, with the boosts ArticlePage.search_fields gives it.
    assert properties["title"]["copy_to"] == ["_all_text", "_all_text_boost_3_0"]
    assert properties["articles_articlepage__summary"]["copy_to"] == [
        "_all_text",
        "_all_text_boost_2_5",
    ]
    assert properties["articles_articlepage__body"]["type"] == "text"
    tags = properties["articles_articlepage__tags"]
    assert tags["type"] == "nested"
    assert tags["properties"]["name"]["copy_to"] == ["_all_text", "_all_text_boost_2_5"]
    # The filters article_search uses: locale, kind, audience, tree path, live.
    assert properties["locale_id_filter"] == {"type": "integer"}
    assert properties["articles_articlepage__kind_filter"] == {"type": "keyword"}
    assert properties["articles_articlepage__audience_filter"] == {"type": "keyword"}
    assert properties["path_filter"] == {"type": "keyword"}
    assert properties["live_filter"] == {"type": "boolean"}


@pytest.mark.parametrize("server_backend", SERVER_BACKENDS, indirect=True)
def test_server_backend_maps_an_article_document(server_backend, articles):
    document = server_backend.mapping_class(ArticlePage).get_document(articles["reset"])

    assert document["title"] == "Reset your password"
    assert document["articles_articlepage__kind_filter"] == "troubleshooting"
    assert document["locale_id_filter"] == articles["locale"].pk
    assert "Forgot password" in document["articles_articlepage__body"]


@pytest.mark.parametrize("server_backend", SERVER_BACKENDS, indirect=True)
def test_server_backend_compiles_the_project_filters(server_backend, articles):
    queryset = (
        ArticlePage.objects.live()
        .public()
        .filter(locale=articles["locale"], kind="troubleshooting")
        .descendant_of(articles["reset"].get_parent())
    )
    compiler = server_backend.query_compiler_class(queryset, PlainText("password"))

    query = str(compiler.get_query())

    assert "password" in query
    assert "articles_articlepage__kind_filter" in query
    assert "locale_id_filter" in query
    assert "path_filter" in query
