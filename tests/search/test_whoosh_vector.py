"""Vector scoring gives what Whoosh's own matchers give, on a real index.

The reference walks Whoosh's matcher tree over every match, with no block skipping
or matcher replacement, so it is Whoosh's exact BM25F ranking of the query."""

import random

import pytest
from modelsearch.query import And, Boost, Fuzzy, Not, Or, Phrase, PlainText

from articles.models import ArticlePage
from search.backends import whoosh_vector
from search.backends.whoosh import (
    WhooshSearchBackend,
    _DocumentBuilder,
    _filter_set,
    _language_groups,
    _write,
)
from tests import factories

WORDS = """account password reset invoice payment refund email login team export
report card bank billing plan upgrade cancel delete share folder sync phone""".split()


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _articles(parent, rng, count, start=0):
    return [
        factories.article(
            parent,
            title=f"{_text(rng, 3).capitalize()} {start + n}",
            summary=_text(rng, 8),
            body="\n\n".join(_text(rng, rng.randint(5, 40)) for _ in range(3)),
            kind=rng.choice(["guide", "faq"]),
            tags=rng.sample(WORDS, 2),
        )
        for n in range(count)
    ]


@pytest.fixture
def backend(tmp_path, settings):
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {"BACKEND": "search.backends.whoosh", "PATH": str(tmp_path / "ix")}
    }
    return WhooshSearchBackend({"PATH": str(tmp_path / "ix")})


@pytest.fixture
def two_segments(backend):
    """An index of 50 articles in two segments, with deleted documents in the first."""
    rng = random.Random(5)
    home = factories.help_center("en")
    parent = factories.category(home)
    first = _articles(parent, rng, 40)
    backend.add_bulk(ArticlePage, first)
    for gone in first[:3]:
        backend.delete(gone)
    second = _articles(parent, rng, 10, start=40)
    index = backend.get_index_for_model(ArticlePage)
    _, ix = index.store.open_live()
    builder, groups = (
        _DocumentBuilder(ArticlePage),
        _language_groups(ArticlePage, second),
    )
    documents = [builder.documents(a, groups[str(a.pk)]) for a in second]
    _write(ix, [str(a.pk) for a in second], documents, 5, merge=False)
    return backend


def _reference(searcher, query, allowed):
    """Whoosh's own scores for every allowed match, best first (lower docnum on ties)."""
    found = []
    for leaf, offset in searcher.leaf_searchers():
        matcher = query.matcher(leaf, searcher.context())
        while matcher.is_active():
            docnum = matcher.id() + offset
            if allowed is None or docnum in allowed:
                found.append((-matcher.score(), docnum))
            matcher.next()
    found.sort()
    return [docnum for _, docnum in found], [-score for score, _ in found]


QUERIES = [
    PlainText("password"),
    PlainText("reset my password"),
    PlainText("reset password invoice", operator="and"),
    PlainText("the"),
    PlainText("nothing-like-this"),
    Phrase("bank billing"),
    Fuzzy("pasword refnd"),
    And([PlainText("account email"), Not(PlainText("refund"))]),
    Or([PlainText("login"), Boost(PlainText("sync phone", operator="and"), 0.9)]),
    And([PlainText("export report"), Phrase("team export")]),
]


def _compare(searcher, compiler):
    whoosh_query = compiler.text_query(searcher)
    allowed = _filter_set(searcher, compiler.filter_query())
    expected_docs, expected_scores = _reference(searcher, whoosh_query, allowed)
    docs, scores, total = whoosh_vector.top_documents(
        searcher, whoosh_query, allowed, None
    )
    _, top_scores, top_total = whoosh_vector.top_documents(
        searcher, whoosh_query, allowed, 5
    )
    assert total == top_total == len(expected_docs)
    assert scores == pytest.approx(expected_scores, rel=1e-9)
    assert top_scores == pytest.approx(expected_scores[:5], rel=1e-9)
    # Documents with equal scores may be listed in either order.
    assert {(round(s, 9), d) for s, d in zip(scores, docs, strict=True)} == {
        (round(s, 9), d) for s, d in zip(expected_scores, expected_docs, strict=True)
    }
    return total


@pytest.mark.django_db
def test_vector_scoring_equals_whooshs_matchers(two_segments, subtests):
    live = ArticlePage.objects.live().public()
    totals = []
    for query in QUERIES:
        with subtests.test(query=repr(query)):
            results = two_segments.search(query, live)
            with results._index().searcher() as searcher:
                assert len(searcher.leaf_searchers()) >= 2
                assert searcher.reader().has_deletions()
                totals.append(_compare(searcher, results.query_compiler))
    # The queries are not all trivial: most match something, one nothing.
    assert sum(1 for total in totals if total) >= len(QUERIES) - 2
    assert 0 in totals


@pytest.mark.django_db
def test_search_results_are_whooshs_ranking_with_the_exact_count(two_segments):
    live = ArticlePage.objects.live().public()
    results = two_segments.search("reset password", live)
    with results._index().searcher() as searcher:
        compiler = results.query_compiler
        expected, _ = _reference(
            searcher,
            compiler.text_query(searcher),
            _filter_set(searcher, compiler.filter_query()),
        )
        expected_pks = [int(searcher.stored_fields(d)["pk"]) for d in expected]

    page = list(results[:10])

    assert [a.pk for a in page] == expected_pks[:10]
    assert results.count() == len(expected_pks)


@pytest.mark.django_db
def test_a_deleted_article_is_neither_found_nor_counted(two_segments):
    live = ArticlePage.objects.live().public()
    every = [a.pk for a in two_segments.search("password account invoice", live)]
    deleted = ArticlePage.objects.get(pk=every[0])
    two_segments.delete(deleted)

    after = two_segments.search("password account invoice", live)

    assert deleted.pk not in [a.pk for a in after]
    assert after.count() == len(every) - 1
