"""The search result cache on a real Whoosh index and the real database: repeated
searches are answered from it, and every change that shapes results is seen at once."""

import multiprocessing

import pytest
from django.core.management import call_command
from wagtail.contrib.search_promotions.models import Query, SearchPromotion
from wagtail.models import Locale, PageViewRestriction

from articles.models import ArticlePage
from feedback.models import Event
from search import cache
from search.backends.whoosh import WhooshSearchBackend, reset_process_state
from search.models import Synonym
from search.selectors import article_search, article_suggest
from tests import factories


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.results.clear()
    yield
    cache.results.clear()


@pytest.fixture
def en(db):
    home = factories.help_center("en")
    account = factories.category(home, title="Account", slug="account")
    return {
        "account": account,
        "reset": factories.article(
            account,
            title="Reset your password",
            slug="reset-your-password",
            summary="Choose a new password with a reset link.",
            body="Open the sign-in page and select Forgot password.",
        ),
        "login": factories.article(
            account,
            title="Can't log in",
            slug="cant-log-in",
            summary="What to check when you cannot get into your account.",
            body="Check your email address and Caps Lock.",
        ),
    }


def english():
    return Locale.objects.get(language_code="en")


def titles(result):
    return [hit.title for hit in result.hits]


def rename_behind_the_search_engines_back(page, title):
    # A queryset update sends no signal and writes no index: only a result computed
    # afresh could show the new title.
    ArticlePage.objects.filter(pk=page.pk).update(title=title)


def test_a_repeated_search_is_answered_from_the_cache(en):
    first = article_search(query="password", locale=english())
    rename_behind_the_search_engines_back(en["reset"], "Renamed quietly")

    second = article_search(query="password", locale=english())

    assert titles(first) == titles(second) == ["Reset your password"]
    assert cache.results.hits == 1


def test_every_argument_is_part_of_the_key(en):
    article_search(query="password", locale=english())
    rename_behind_the_search_engines_back(en["reset"], "Renamed quietly")

    assert titles(article_search(query="password", locale=english(), limit=5)) == [
        "Renamed quietly"
    ]
    assert titles(article_search(query="password ", locale=english())) == [
        "Renamed quietly"
    ]
    assert cache.results.hits == 0


def test_callers_get_a_copy_they_may_decorate(en):
    first = article_search(query="password", locale=english())
    first.search_id = "abc"
    first.hits.clear()

    second = article_search(query="password", locale=english())

    assert titles(second) == ["Reset your password"]
    assert not hasattr(second, "search_id")


def test_a_publish_unpublish_and_delete_are_seen_at_once(en):
    assert article_search(query="gift cards", locale=english()).count == 0
    page = factories.article(
        en["account"], title="Gift cards", slug="gift-cards", body="Sell gift cards."
    )
    assert titles(article_search(query="gift cards", locale=english())) == [
        "Gift cards"
    ]
    page.unpublish()
    assert article_search(query="gift cards", locale=english()).count == 0
    page.save_revision().publish()
    assert article_search(query="gift cards", locale=english()).count == 1
    page.delete()
    assert article_search(query="gift cards", locale=english()).count == 0


def test_an_edited_and_republished_title_is_seen_at_once(en):
    assert titles(article_search(query="password", locale=english())) == [
        "Reset your password"
    ]
    page = en["reset"]
    page.title = "Reset a forgotten password"
    page.save_revision().publish()

    assert titles(article_search(query="password", locale=english())) == [
        "Reset a forgotten password"
    ]


def test_a_synonym_change_is_seen_at_once(en):
    assert "Can't log in" not in titles(
        article_search(query="sign in problems", locale=english())
    )
    synonym = Synonym.objects.create(locale=english(), terms="sign in, log in")
    assert "Can't log in" in titles(
        article_search(query="sign in problems", locale=english())
    )
    synonym.delete()
    assert "Can't log in" not in titles(
        article_search(query="sign in problems", locale=english())
    )


def test_a_promotion_change_is_seen_at_once(en):
    assert titles(article_search(query="password", locale=english())) == [
        "Reset your password"
    ]
    promotion = SearchPromotion.objects.create(
        query=Query.get("password"), page=en["login"], sort_order=0
    )
    result = article_search(query="password", locale=english())
    assert titles(result)[0] == "Can't log in"
    assert result.hits[0].promoted

    promotion.delete()
    assert titles(article_search(query="password", locale=english())) == [
        "Reset your password"
    ]


def test_a_view_restriction_hides_pages_at_once_and_lifting_it_shows_them(en):
    def found():
        return (
            titles(article_search(query="password", locale=english())),
            [a.title for a in article_suggest(prefix="reset", locale=english())],
        )

    assert found() == (["Reset your password"], ["Reset your password"])
    restriction = PageViewRestriction.objects.create(
        page=en["account"], restriction_type="password", password="staff only"
    )
    # The restriction is on the category: the articles under it are private too.
    assert found() == ([], [])

    restriction.delete()
    assert found() == (["Reset your password"], ["Reset your password"])


def test_a_renamed_category_is_seen_at_once_in_the_hits(en):
    hit = article_search(query="password", locale=english()).hits[0]
    assert (hit.category, hit.category_slug) == ("Account", "account")
    account = en["account"]
    account.title, account.slug = "Your account", "your-account"
    account.save_revision().publish()

    hit = article_search(query="password", locale=english()).hits[0]
    assert (hit.category, hit.category_slug) == ("Your account", "your-account")
    assert hit.url == "/en/your-account/reset-your-password/"


def test_a_locale_added_is_searchable_at_once(en, client):
    Locale.objects.filter(language_code="sv").delete()

    def search_in_swedish():
        return client.get("/api/v1/search", {"q": "lösenord", "locale": "sv"})

    assert search_in_swedish().json()["error"]["code"] == "unknown_locale"
    Locale.objects.create(language_code="sv")
    response = search_in_swedish()
    assert response.status_code == 200 and response.json()["count"] == 0


def test_suggestions_are_cached_and_follow_publishing(en):
    assert [a.title for a in article_suggest(prefix="gif", locale=english())] == []
    factories.article(en["account"], title="Gift cards", slug="gift-cards")
    assert [a.title for a in article_suggest(prefix="gif", locale=english())] == [
        "Gift cards"
    ]
    rename_behind_the_search_engines_back(en["reset"], "Renamed quietly")
    assert [a.title for a in article_suggest(prefix="gif", locale=english())] == [
        "Gift cards"
    ]
    assert cache.results.hits == 1


def test_a_rebuild_swap_is_seen_at_once(en):
    article_search(query="password", locale=english())
    rename_behind_the_search_engines_back(en["reset"], "Renamed, then rebuilt")

    call_command("update_index", stdout=open("/dev/null", "w"))

    assert titles(article_search(query="password", locale=english())) == [
        "Renamed, then rebuilt"
    ]


def _reindex_in_another_process(path: str, page):
    reset_process_state()
    WhooshSearchBackend({"PATH": path}).add(page)


def test_an_index_write_in_another_process_is_seen_at_once(en, settings):
    article_search(query="password", locale=english())
    page = ArticlePage.objects.get(pk=en["reset"].pk)
    rename_behind_the_search_engines_back(page, "Renamed elsewhere")
    path = str(settings.WAGTAILSEARCH_BACKENDS["default"]["PATH"])

    # A forked worker (as gunicorn's) writes the index; this process learns it from
    # the backend's change token, not from any signal of its own.
    writer = multiprocessing.get_context("fork").Process(
        target=_reindex_in_another_process, args=(path, page)
    )
    writer.start()
    writer.join(60)

    assert writer.exitcode == 0
    assert titles(article_search(query="password", locale=english())) == [
        "Renamed elsewhere"
    ]


def test_each_api_search_gets_its_own_search_id_even_when_cached(en, client):
    first = client.get("/api/v1/search", {"q": "password", "locale": "en"}).json()
    second = client.get("/api/v1/search", {"q": "password", "locale": "en"}).json()

    assert first["results"] == second["results"]
    assert first["search_id"] != second["search_id"]
    assert cache.results.hits == 1
    assert (
        Event.objects.filter(
            search_id__in=[first["search_id"], second["search_id"]]
        ).count()
        == 2
    )


def test_a_cache_size_of_zero_turns_it_off(en, settings):
    settings.KB_SEARCH_CACHE_SIZE = 0
    article_search(query="password", locale=english())
    rename_behind_the_search_engines_back(en["reset"], "Renamed quietly")

    assert titles(article_search(query="password", locale=english())) == [
        "Renamed quietly"
    ]
    assert len(cache.results) == 0
