"""The Whoosh backend on a real index in a temporary folder, beyond the conformance
suite: languages, rebuilds, concurrent writers, broken indexes."""

import logging
import multiprocessing
import random
import shutil
import threading
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from modelsearch.query import MATCH_ALL, Fuzzy, Phrase
from modelsearch.test.testapp.models import AdvertWithCustomUUIDPrimaryKey
from wagtail.models import Locale, Page
from wagtail.search.backends import get_search_backend

from articles.models import ArticlePage
from search.backends.whoosh import (
    POINTER_FILE,
    WhooshSearchBackend,
    reset_process_state,
)
from tests import factories


@pytest.fixture
def index_path(tmp_path) -> Path:
    return tmp_path / "backend-under-test"


@pytest.fixture
def backend(index_path) -> WhooshSearchBackend:
    return WhooshSearchBackend({"PATH": str(index_path)})


@pytest.fixture
def whoosh_default(settings, index_path):
    """Makes the Whoosh backend the only configured one (signals, update_index)."""
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {"BACKEND": "search.backends.whoosh", "PATH": str(index_path)}
    }


def locale(language_code: str) -> Locale:
    return Locale.objects.get_or_create(language_code=language_code)[0]


def page(title: str, language_code: str = "en", parent: Page | None = None) -> Page:
    parent = parent or Page.get_first_root_node()
    child = Page(
        title=title, slug=f"p-{uuid.uuid4().hex[:12]}", locale=locale(language_code)
    )
    parent.add_child(instance=child)
    return child


def indexed_pages(backend, *specs) -> list[Page]:
    pages = [page(title, language_code) for title, language_code in specs]
    backend.add_bulk(Page, pages)
    return pages


def titles(results) -> set[str]:
    return {result.title for result in results}


def in_locale(language_code: str):
    return Page.objects.filter(locale=locale(language_code))


# Languages


@pytest.mark.parametrize(
    ("language_code", "title", "query"),
    [
        ("en", "Resetting forgotten passwords", "password"),
        ("sv", "Betalningar och fakturor", "betalning"),
        ("ru", "Новые настройки учётной записи", "новый учетная"),
        ("id", "Cara pembayaran dengan kartu", "membayar"),
    ],
)
@pytest.mark.django_db
def test_stemming_finds_inflected_forms(backend, language_code, title, query):
    indexed_pages(backend, (title, language_code), ("Unrelated text", language_code))

    results = backend.search(query, in_locale(language_code), operator="and")

    assert titles(results) == {title}


@pytest.mark.django_db
def test_two_character_chinese_query_finds_it_inside_a_sentence(backend):
    indexed_pages(
        backend, ("如何在手機上重設您的帳戶密碼", "zh-hant"), ("付款方式", "zh-hant")
    )

    assert titles(backend.search("密碼", in_locale("zh-hant"))) == {
        "如何在手機上重設您的帳戶密碼"
    }
    # One character is enough, too.
    assert titles(backend.search("碼", in_locale("zh-hant"))) == {
        "如何在手機上重設您的帳戶密碼"
    }


@pytest.mark.django_db
def test_multi_bigram_chinese_query_is_not_an_and_of_its_bigrams(backend):
    indexed_pages(
        backend,
        ("忘記密碼怎麼辦", "zh-hant"),
        ("重設密碼", "zh-hant"),
        ("付款", "zh-hant"),
    )

    # 忘記密碼 = 忘記 + 記密 + 密碼: "重設密碼" shares only 密碼 and is still found,
    # after the page containing the whole word.
    results = list(backend.search("忘記密碼", in_locale("zh-hant"), operator="and"))

    assert [result.title for result in results] == ["忘記密碼怎麼辦", "重設密碼"]


@pytest.mark.django_db
def test_latin_words_in_chinese_text_match(backend):
    indexed_pages(backend, ("在iPhone上重設密碼", "zh-hant"), ("重設密碼", "zh-hant"))

    assert titles(backend.search("iphone", in_locale("zh-hant"))) == {
        "在iPhone上重設密碼"
    }


@pytest.mark.django_db
def test_locale_filtered_query_uses_that_locales_analyser(backend):
    indexed_pages(backend, ("Hjälp med lösenord", "sv"), ("Help with passwords", "en"))

    # Swedish stemming reduces "hjälpen" to "hjalp"; English stemming would not.
    assert titles(backend.search("hjälpen", in_locale("sv"))) == {"Hjälp med lösenord"}
    assert titles(backend.search("hjälpen", in_locale("en"))) == set()
    # Without a locale filter every language's fields are searched, each with its
    # own analyser.
    assert titles(backend.search("hjälpen", Page.objects.all())) == {
        "Hjälp med lösenord"
    }
    assert titles(backend.search("passwords", Page.objects.all())) == {
        "Help with passwords"
    }


@pytest.mark.django_db
def test_fuzzy_query_forgives_a_typo(backend):
    indexed_pages(backend, ("Password settings", "en"), ("Billing", "en"))

    assert titles(backend.search(Fuzzy("pasword"), Page.objects.all())) == {
        "Password settings"
    }


@pytest.mark.django_db
def test_autocomplete_matches_word_prefixes(backend):
    indexed_pages(backend, ("Password settings", "en"), ("Billing", "en"))

    assert titles(backend.autocomplete("passw", Page.objects.all())) == {
        "Password settings"
    }


# Filters, counts and results come from the index


@pytest.mark.django_db
def test_counts_come_from_the_index_and_a_page_costs_one_query(
    backend, django_assert_num_queries
):
    indexed_pages(backend, *[(f"Refund request {n}", "en") for n in range(30)])
    results = backend.search("refund", in_locale("en").filter(live=True))

    with django_assert_num_queries(0):
        assert results.count() == 30
    with django_assert_num_queries(1):
        assert len(list(results[:10])) == 10


@pytest.mark.django_db
def test_the_count_after_a_page_of_results_needs_no_second_search(backend):
    indexed_pages(backend, *[(f"Invoice copy {n}", "en") for n in range(25)])
    results = backend.search("invoice", in_locale("en"))
    assert len(list(results[:10])) == 10
    # The page's search counted every match; a broken index now can't change that.
    shutil.rmtree(backend.path)

    assert results.count() == 25


@pytest.mark.django_db
def test_filters_that_leave_nothing_give_nothing(backend):
    indexed_pages(backend, ("Invoices in English", "en"))
    locale("sv")

    assert backend.search("invoices", in_locale("sv")).count() == 0
    assert list(backend.search("invoices", in_locale("sv"))) == []
    assert list(backend.search(MATCH_ALL, Page.objects.none())) == []


@pytest.mark.django_db
def test_a_typo_expands_to_a_few_frequent_words_only(backend):
    indexed_pages(
        backend,
        ("Refund policy", "en"),
        *[(f"Refund request {n}", "en") for n in range(5)],
        ("Rebund", "en"),
        ("Refind", "en"),
        ("Refunx", "en"),
        ("Refunt", "en"),
        ("Refuns", "en"),
    )
    results = backend.search(Fuzzy("refund"), in_locale("en"))

    # The word itself and its three most frequent neighbours, not all six.
    assert results.count() == 6 + 3


@pytest.mark.django_db
def test_descendant_of_filter_runs_in_the_index(backend):
    section = page("Billing section")
    inside = page("Refunds explained", parent=section)
    outside = page("Refunds elsewhere")
    backend.add_bulk(Page, [section, inside, outside])

    results = backend.search("refunds", Page.objects.descendant_of(section))

    assert results.count() == 1
    assert titles(results) == {"Refunds explained"}


@pytest.mark.django_db
def test_id_ranges_on_a_child_model_compare_numbers_not_strings(home):
    category = factories.category(home, title="Billing", slug="billing")
    for number in range(4):
        factories.article(category, title=f"Invoice question {number}")
    backend = get_search_backend("default")  # kept current by the page signals
    ids = sorted(ArticlePage.objects.values_list("pk", flat=True))
    # Bounds with another number of digits than the ids: as strings, "7" > "10".
    next_power_of_ten = 10 ** len(str(ids[-1]))
    for low, high in [(ids[0], next_power_of_ten), (9, ids[-1] + 1)]:
        articles = ArticlePage.objects.filter(pk__gte=low, pk__lt=high)
        found = backend.search(MATCH_ALL, articles, order_by_relevance=False)

        assert sorted(hit.pk for hit in found) == sorted(a.pk for a in articles)
    assert found.count() == articles.count()
    assert (
        backend.search(
            MATCH_ALL, ArticlePage.objects.filter(pk__lt=next_power_of_ten)
        ).count()
        == 4
    )


# Incremental indexing


@pytest.mark.django_db
def test_wagtails_signal_handlers_keep_the_index_current(whoosh_default, backend):
    saved = page("Shipping times")
    assert titles(backend.search("shipping", Page.objects.all())) == {"Shipping times"}

    saved.title = "Delivery times"
    saved.save()
    assert titles(backend.search("delivery", Page.objects.all())) == {"Delivery times"}
    assert titles(backend.search("shipping", Page.objects.all())) == set()

    saved.delete()
    assert backend.search("delivery", Page.objects.all()).count() == 0


@pytest.mark.django_db
def test_one_warm_searcher_is_reused_until_the_index_changes(backend):
    indexed_pages(backend, ("Warm searcher", "en"))
    index = backend.get_index_for_model(Page)

    with index.searcher() as first:
        pass
    with index.searcher() as second:
        pass
    assert second is first

    indexed_pages(backend, ("Another warm page", "en"))
    with index.searcher() as third:
        assert third.up_to_date()
    assert backend.search("warm", Page.objects.all()).count() == 2


# Rebuilds and concurrency


@pytest.mark.django_db
def test_rebuild_swaps_in_a_new_index_while_searches_keep_answering(
    whoosh_default, backend, index_path
):
    indexed_pages(backend, *[(f"Invoice question {n}", "en") for n in range(20)])
    call_command("update_index", backend_name="default", stdout=StringIO())
    counts, errors, done = [], [], threading.Event()

    def search_until_done():
        # Counting touches only the index, so this thread needs no database.
        while not done.is_set():
            try:
                counts.append(backend.search("invoice", Page.objects.all()).count())
            except Exception as exc:  # noqa: BLE001 -- any failure fails the test
                errors.append(exc)

    searcher_thread = threading.Thread(target=search_until_done)
    searcher_thread.start()
    try:
        for _ in range(3):
            call_command("update_index", backend_name="default", stdout=StringIO())
    finally:
        done.set()
        searcher_thread.join()

    assert errors == []
    assert counts and set(counts) == {20}
    assert backend.search("invoice", Page.objects.all()).count() == 20
    # The live generation and the one before it remain; older ones are gone.
    page_index = index_path / "wagtailcore_page"
    assert len(list(page_index.glob("gen-*"))) <= 2
    assert (page_index / POINTER_FILE).read_text() in {
        folder.name for folder in page_index.glob("gen-*")
    }


@pytest.mark.django_db
def test_saves_during_a_rebuild_reach_the_new_index(backend):
    old = indexed_pages(backend, ("Old article", "en"))
    rebuilder = backend.rebuilder_class(backend.get_index_for_model(Page))
    new_index = rebuilder.start()
    new_index.add_items(Page, old)

    indexed_pages(backend, ("Article saved mid-rebuild", "en"))
    assert backend.search("rebuild", Page.objects.all()).count() == 1
    rebuilder.finish()

    assert titles(backend.search("article", Page.objects.all())) == {
        "Old article",
        "Article saved mid-rebuild",
    }


@pytest.mark.django_db
def test_a_save_during_a_rebuild_is_not_overwritten_by_what_the_rebuild_read(
    backend,
):
    (stale,) = indexed_pages(backend, ("Shipping times", "en"))
    rebuilder = backend.rebuilder_class(backend.get_index_for_model(Page))
    new_index = rebuilder.start()
    new_index.add_items(Page, [stale])  # read before the save below

    Page.objects.filter(pk=stale.pk).update(title="Delivery times")
    backend.add(Page.objects.get(pk=stale.pk))
    rebuilder.finish()

    assert titles(backend.search("delivery", Page.objects.all())) == {"Delivery times"}
    assert backend.search("shipping", Page.objects.all()).count() == 0


@pytest.mark.django_db
def test_the_change_token_moves_with_every_index_change_only(backend):
    tokens = [backend.change_token()]
    (first,) = indexed_pages(backend, ("Shipping times", "en"))
    tokens.append(backend.change_token())
    backend.search("shipping", Page.objects.all()).count()
    assert backend.change_token() == tokens[-1]

    backend.delete(first)
    tokens.append(backend.change_token())
    rebuilder = backend.rebuilder_class(backend.get_index_for_model(Page))
    rebuilder.start()
    rebuilder.finish()
    tokens.append(backend.change_token())

    assert len(set(tokens)) == 4


def _write_adverts(path: str, prefix: str, count: int):
    reset_process_state()
    # A generous lock timeout: on a loaded machine the other writers' commits are slow,
    # and this test is about losing nothing, not about speed.
    writer = WhooshSearchBackend({"PATH": path, "LOCK_TIMEOUT": 600})
    for number in range(count):
        advert = AdvertWithCustomUUIDPrimaryKey(
            advert_id=uuid.uuid4(), text=f"{prefix} advert {number}"
        )
        writer.add(advert)


def test_processes_writing_at_once_lose_nothing(index_path):
    context = multiprocessing.get_context("fork")
    writers = [
        context.Process(target=_write_adverts, args=(str(index_path), name, 25))
        for name in ("alpha", "bravo", "charlie")
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(900)

    # A LockError (or any error) in a writer would end it with a non-zero code.
    assert [process.exitcode for process in writers] == [0, 0, 0]
    backend = WhooshSearchBackend({"PATH": str(index_path)})
    adverts = AdvertWithCustomUUIDPrimaryKey.objects.all()
    assert backend.search(MATCH_ALL, adverts).count() == 75
    assert backend.search("bravo", adverts).count() == 25


# Broken indexes


@pytest.mark.django_db
def test_missing_index_folder_gives_empty_results_and_a_warning(
    backend, index_path, caplog
):
    indexed_pages(backend, ("Account settings", "en"))
    shutil.rmtree(index_path)

    with caplog.at_level(logging.WARNING, logger="kb.search"):
        results = backend.search("account", Page.objects.all())
        assert list(results) == []
        assert results.count() == 0

    assert "update_index" in caplog.text
    # The index is usable again: new documents are found.
    indexed_pages(backend, ("Account closure", "en"))
    assert titles(backend.search("account", Page.objects.all())) == {"Account closure"}


@pytest.mark.django_db
def test_corrupt_index_gives_empty_results_and_a_warning(backend, index_path, caplog):
    indexed_pages(backend, ("Account settings", "en"))
    page_index = index_path / "wagtailcore_page"
    generation = page_index / (page_index / POINTER_FILE).read_text()
    for toc in generation.glob("*.toc"):
        toc.write_bytes(b"\x00not a whoosh table of contents")
    reset_process_state()  # as a freshly started worker would

    with caplog.at_level(logging.WARNING, logger="kb.search"):
        assert list(backend.search("account", Page.objects.all())) == []

    assert "unreadable" in caplog.text
    assert "update_index" in caplog.text


@pytest.mark.django_db
def test_search_before_any_index_exists_is_empty(backend, caplog):
    page("Never indexed")

    with caplog.at_level(logging.WARNING, logger="kb.search"):
        assert backend.search("indexed", Page.objects.all()).count() == 0

    assert "missing" in caplog.text


# Rebuild writing


def test_rebuild_pool_gives_whoosh_its_postings_sorted_across_spills():
    from whoosh.filedb.filestore import RamStorage

    from search.backends.whoosh import _TermPool

    rng = random.Random(3)
    postings = []
    for docnum in range(300):
        for word in rng.sample(["alpha", "beta", "gamma", "delta", "eps"], 3):
            value = rng.choice([b"", b"\x01\x02", None])
            postings.append(("body", word.encode(), docnum, float(docnum % 5), value))
        postings.append(("id", str(docnum).encode(), docnum, 1.0, None))
    # A posting out of document order, as a merge of segments could give.
    postings.append(("body", b"alpha", 7, 2.0, b"\x03"))
    storage = RamStorage()
    pool = _TermPool(storage, limitmb=0.005)  # a few KB: spills many runs
    for posting in postings:
        pool.add(posting)
    assert pool._runs, "the pool should have written runs to disk"

    written = list(pool.iter_postings())
    pool.cleanup()

    expected = sorted(
        ((f, t, d, w, v or None) for f, t, d, w, v in postings),
        key=lambda p: (p[0], p[1], p[2]),
    )
    assert [p[:3] for p in written] == [p[:3] for p in expected]
    assert sorted(written, key=repr) == sorted(expected, key=repr)
    assert list(storage.list()) == []


@pytest.mark.django_db
def test_a_rebuild_in_many_batches_leaves_one_segment_that_finds_everything(
    whoosh_default, backend, monkeypatch
):
    from search.backends import whoosh as whoosh_backend

    words = ["amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heron"]
    words += ["indigo", "juniper", "kelp", "lumen", "maple", "nectar", "onyx"]
    pages = indexed_pages(backend, *[(f"Invoice question {w}", "en") for w in words])
    monkeypatch.setattr(whoosh_backend, "REBUILD_BATCH", 4)
    monkeypatch.setattr(whoosh_backend, "REBUILD_POOL_MB", 0.01)

    call_command("update_index", backend_name="default", stdout=StringIO())

    reset_process_state()
    _, ix = backend.get_index_for_model(Page).store.open_live()
    assert len(ix._segments()) == 1
    everything = Page.objects.all()
    assert backend.search("invoice", everything).count() == len(words)
    for word, expected in zip(words, pages, strict=True):
        assert [p.pk for p in backend.search(word, everything)] == [expected.pk]
    assert backend.search(Phrase("invoice question"), everything).count() == len(words)
    assert backend.search(Phrase("question invoice"), everything).count() == 0
    ids = sorted(p.pk for p in pages)
    middle = ids[len(ids) // 2]
    found = backend.search(MATCH_ALL, Page.objects.filter(pk__gte=middle))
    assert sorted(p.pk for p in found) == [pk for pk in ids if pk >= middle]
