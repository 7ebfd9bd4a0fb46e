"""Search reads. All project code searches through here, never through a backend.

`article_search` turns what a customer typed into Wagtail search queries on live,
public articles: query validation and parsing (phrases, `-exclusions`), writer-edited
synonyms, articles matching all terms before those matching some, promoted results,
a fuzzy retry with "did you mean", an English fallback, and escaped snippets.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.utils.safestring import SafeString
from modelsearch.query import And, Boost, Fuzzy, Not, Or, Phrase, PlainText
from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.models import Locale, Page

from articles.models import ArticleKind, ArticlePage, CategoryPage, HelpCenterPage
from articles.selectors import article_list_live, default_locale, locale_get
from search.analysis import highlight_passage, language_group, query_clauses
from search.answer import (
    PROMOTED_CONFIDENCE,
    Answer,
    AnswerAlternative,
    AnswerArticle,
    AnswerFeatures,
    candidate_features,
    confidence_from_features,
    passage_best,
)
from search.cache import cached_lookup, cached_result
from search.models import Synonym

QUERY_MAX_LENGTH = 500
FEW_RESULTS = 3
_TOKEN_RE = re.compile(r'-?"[^"]*"|\S+')
_OPERATOR_ONLY = {"-", "+", "AND", "OR", "NOT", "&&", "||", "*", '"', "-*"}


class SearchQueryError(ValueError):
    """A query that cannot be run, with a message a customer can act on."""

    def __init__(self, message: str, *, code: str = "invalid_query"):
        super().__init__(message)
        self.code = code


@dataclass
class ParsedQuery:
    terms: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.terms)


@dataclass
class SearchHit:
    article: ArticlePage
    title: str
    url: str
    summary: str
    snippet: SafeString
    kind: str
    category: str
    category_slug: str
    score: float
    promoted: bool = False


@dataclass
class SearchResult:
    query: str
    locale: str
    count: int
    hits: list[SearchHit]
    suggestion: str | None = None
    fuzzy: bool = False
    fallback_locale: str | None = None


@cached_lookup
def search_locale(*, language_code: str) -> Locale | None:
    """The locale a search in ``language_code`` runs in, None when the site has no
    such locale; kept with the cached results, so a search does not look it up."""
    return locale_get(language_code=language_code)


def query_normalize(query: str) -> str:
    """Collapses whitespace: the form echoed back to the customer and, lower-cased,
    matched by promotions (reports group queries by feedback.services.query_normalise)."""
    return " ".join(query.split())


def query_parse(query: str) -> ParsedQuery:
    """Validates and splits a query into terms, "quoted phrases" and -exclusions."""
    if "\x00" in query:
        raise SearchQueryError("The search contains a NUL character.")
    query = query_normalize(query)
    if not query:
        raise SearchQueryError("Type a few words to search for.", code="empty_query")
    if len(query) > QUERY_MAX_LENGTH:
        raise SearchQueryError(
            f"The search is too long: use at most {QUERY_MAX_LENGTH} characters.",
            code="query_too_long",
        )
    if query.count('"') % 2:
        raise SearchQueryError(
            'The search has an unbalanced quote: close the "quoted phrase".'
        )
    parsed = ParsedQuery()
    for token in _TOKEN_RE.findall(query):
        negative = token.startswith("-") and len(token) > 1
        body = token[1:] if negative else token
        if body.startswith('"'):
            phrase = body.strip('"').strip()
            if not phrase:
                continue
            (parsed.excluded if negative else parsed.phrases).append(phrase)
        elif token in _OPERATOR_ONLY or set(token) <= set("*-+|&"):
            continue
        elif negative:
            parsed.excluded.append(body)
        else:
            parsed.terms.append(token)
    if not parsed.terms and not parsed.phrases:
        raise SearchQueryError(
            "The search has no words to look for, only operators or exclusions."
        )
    return parsed


def _synonym_variants(text: str, locale: Locale) -> list[str]:
    """Rewrites of `text` with a synonym group's phrase swapped for its alternatives."""
    lowered = f" {text.lower()} "
    variants: list[str] = []
    for terms in _synonym_groups(locale=locale):
        for term in terms:
            if f" {term} " in lowered:
                for alternative in terms:
                    if alternative != term:
                        variants.append(
                            lowered.replace(f" {term} ", f" {alternative} ").strip()
                        )
                break
    return variants


def _text_query(
    parsed: ParsedQuery, variants: list[str], operator: str, *, fuzzy: bool = False
):
    if fuzzy:
        words = [w for w in parsed.text.split() if len(w) >= 4]
        if not words:
            return None
        main = Fuzzy(" ".join(words))
    elif parsed.terms:
        main = PlainText(parsed.text, operator=operator)
        if variants:
            main = Or(
                [main] + [Boost(PlainText(v, operator=operator), 0.9) for v in variants]
            )
    else:
        main = None
    parts = [p for p in [main, *(Phrase(p) for p in parsed.phrases)] if p is not None]
    query = parts[0] if len(parts) == 1 else And(parts)
    if parsed.excluded:
        query = And(
            [
                query,
                Not(
                    Or(
                        [
                            Phrase(e) if " " in e else PlainText(e)
                            for e in parsed.excluded
                        ]
                    )
                ),
            ]
        )
    return query


@cached_lookup
def _synonym_groups(*, locale: Locale) -> list[list[str]]:
    """The writer-edited synonym groups of a locale (kept until synonyms change)."""
    return [group.term_list() for group in Synonym.objects.filter(locale=locale)]


def _visible(locale: Locale, *, include_internal: bool = False):
    """Live articles of a locale; internal (agents-only) ones only when asked for.

    The audience is a FilterField, so the backend applies the filter inside the index.
    """
    return _visible_articles(locale=locale, include_internal=include_internal).all()


@cached_lookup
def _visible_articles(*, locale: Locale, include_internal: bool):
    # Kept (unevaluated) until pages or view restrictions change: Wagtail's public()
    # reads every view restriction each time it builds the query.
    return (
        article_list_live(locale=locale, include_internal=include_internal)
        .select_related("locale")
        .order_by()
    )


def _filtered(
    locale: Locale,
    *,
    category: str | None,
    kind: str | None,
    tag: str | None,
    include_internal: bool = False,
):
    qs = _visible(locale, include_internal=include_internal)
    if category:
        parent = CategoryPage.objects.filter(locale=locale, slug=category).first()
        if parent is None:
            return qs.none()
        qs = qs.descendant_of(parent)
    if kind:
        qs = qs.filter(kind=kind)
    if tag:
        qs = qs.filter(tags__slug=tag)
    return qs


def _run(qs, query, limit: int, backend: str = "default") -> tuple[list, int]:
    results = qs.search(query, backend=backend).annotate_score("_score")
    page = list(results[:limit])
    return page, results.count()


def _all_terms_first(parsed: ParsedQuery, locale: Locale) -> bool:
    """Whether articles with every word go first: for a few keywords, yes; a question
    in a sentence is ranked by BM25F alone, where the few articles that happen to hold
    every one of its words are rarely the best answers."""
    if not parsed.terms:
        return False
    words = query_clauses(parsed.text, language_group(locale.language_code))
    return len(words) <= settings.KB_SEARCH_ALL_TERMS_MAX_WORDS


def _ranked(
    qs,
    parsed: ParsedQuery,
    variants: list[str],
    wanted: int,
    backend: str = "default",
    *,
    all_first: bool = True,
) -> tuple[list, int]:
    """Articles matching all terms first (with `all_first`), then those matching some.

    The count is of articles matching some terms; when those matching all of them
    fill the page, the others are only counted, not fetched."""
    some_query = _text_query(parsed, variants, "or")
    if not all_first:
        return _run(qs, some_query, wanted, backend)
    all_terms, _ = _run(qs, _text_query(parsed, variants, "and"), wanted, backend)
    if len(all_terms) >= wanted:
        count = qs.search(some_query, backend=backend).count()
        return all_terms, max(count, len(all_terms))
    some_terms, count = _run(qs, some_query, wanted, backend)
    seen = {a.pk for a in all_terms}
    merged = all_terms + [a for a in some_terms if a.pk not in seen]
    return merged, max(count, len(merged))


def _did_you_mean(parsed: ParsedQuery, articles: list[ArticlePage]) -> str | None:
    """The query with each unknown word replaced by the closest word of the hits."""
    vocabulary: set[str] = set()
    for article in articles[:5]:
        vocabulary.update(
            w.lower() for w in re.findall(r"\w+", f"{article.title} {article.summary}")
        )
        vocabulary.update(t.name.lower() for t in article.tags.all())
    words, changed = [], False
    for word in parsed.terms:
        lower = word.lower()
        if lower in vocabulary or len(lower) < 4:
            words.append(word)
            continue
        match = difflib.get_close_matches(lower, vocabulary, n=1, cutoff=0.75)
        words.append(match[0] if match else word)
        changed |= bool(match)
    return " ".join(words) if changed else None


@cached_lookup
def _promotions() -> dict[str, list[int]]:
    """Promoted page ids by query string, in order (kept until promotions change)."""
    promoted: dict[str, list[int]] = {}
    for query_string, page_id in SearchPromotion.objects.order_by(
        "sort_order", "pk"
    ).values_list("query__query_string", "page_id"):
        if page_id is not None:  # not an external-link promotion
            promoted.setdefault(query_string, []).append(page_id)
    return promoted


def _promoted(query: str, locale: Locale, qs) -> list[ArticlePage]:
    page_ids = _promotions().get(query.lower())
    if not page_ids:
        return []
    by_id = {a.pk: a for a in qs.filter(pk__in=page_ids)}
    return [by_id[pk] for pk in page_ids if pk in by_id]


def _parents(articles: list[ArticlePage]) -> dict[str, Page]:
    """The categories of a page of hits, by path."""
    paths = {a.path[: -Page.steplen] for a in articles}
    known = _sections()
    missing = paths - known.keys()
    if not missing:
        return known
    return {
        **known,
        **{
            p.path: p
            for p in Page.objects.filter(path__in=missing).only("path", "title", "slug")
        },
    }


@cached_lookup
def _sections() -> dict[str, Page]:
    """Help-center homes and categories by path (kept until pages change): the
    parents of almost every article, which other parents are looked up beside."""
    return {
        p.path: p
        for p in Page.objects.type(HelpCenterPage, CategoryPage).only(
            "path", "title", "slug"
        )
    }


def _hit(
    article: ArticlePage, query: str | None, *, parent: Page, promoted: bool = False
) -> SearchHit:
    """A hit, with a highlighted snippet for `query` (none without a query)."""
    snippet = SafeString("")
    if query is not None:
        snippet = highlight_passage(
            article.body_plain(), query, article.locale.language_code
        )
    return SearchHit(
        article=article,
        title=article.title,
        url=article.url,
        summary=article.summary,
        snippet=snippet,
        kind=article.kind,
        category=parent.title,
        category_slug=parent.slug,
        score=round(float(getattr(article, "_score", 0.0) or 0.0), 4),
        promoted=promoted,
    )


@cached_result
def article_search(
    *,
    query: str,
    locale: Locale,
    limit: int = 10,
    offset: int = 0,
    category: str | None = None,
    kind: str | None = None,
    tag: str | None = None,
    fallback: bool = True,
    include_internal: bool = False,
    backend: str = "default",
    snippets: bool = True,
) -> SearchResult:
    """Live, public articles of a locale matching a query, best first.

    Internal (agents-only) articles only with `include_internal`; `backend` names a
    WAGTAILSEARCH_BACKENDS entry (the quality evaluation compares two); without
    `snippets` the hits carry none (the bot's answer quotes its own passage).
    Raises SearchQueryError for a query that cannot be run.
    """
    parsed = query_parse(query)
    normalized = query_normalize(query)
    qs = _filtered(
        locale,
        category=category,
        kind=kind,
        tag=tag,
        include_internal=include_internal,
    )
    variants = _synonym_variants(parsed.text, locale) if parsed.terms else []
    wanted = offset + limit

    promoted = _promoted(normalized, locale, qs)
    articles, count = _ranked(
        qs,
        parsed,
        variants,
        wanted + len(promoted),
        backend,
        all_first=_all_terms_first(parsed, locale),
    )
    suggestion, fuzzy = None, False
    if count < FEW_RESULTS and parsed.terms:
        fuzzy_query = _text_query(parsed, [], "or", fuzzy=True)
        fuzzy_hits, fuzzy_count = [], 0
        if fuzzy_query is not None:
            try:
                fuzzy_hits, fuzzy_count = _run(
                    qs, fuzzy_query, wanted + len(promoted), backend
                )
            except NotImplementedError:
                pass  # a backend without fuzzy matching (Wagtail's database one)
            if fuzzy_count > count:
                suggestion = _did_you_mean(parsed, fuzzy_hits)
                seen = {a.pk for a in articles}
                articles += [a for a in fuzzy_hits if a.pk not in seen]
                count, fuzzy = max(fuzzy_count, len(articles)), True

    promoted_ids = {a.pk for a in promoted}
    ordered = promoted + [a for a in articles if a.pk not in promoted_ids]
    count = max(count, len(ordered)) if ordered else 0
    snippet_query = suggestion or parsed.text or " ".join(parsed.phrases)
    if not snippets:
        snippet_query = None
    page = ordered[offset:wanted]
    parents = _parents(page)
    hits = [
        _hit(
            a,
            snippet_query,
            parent=parents[a.path[: -Page.steplen]],
            promoted=a.pk in promoted_ids,
        )
        for a in page
    ]

    if count == 0 and fallback and locale.language_code != settings.LANGUAGE_CODE:
        english = article_search(
            query=query,
            locale=default_locale(),
            limit=limit,
            offset=offset,
            category=category,
            kind=kind,
            tag=tag,
            fallback=False,
            include_internal=include_internal,
            backend=backend,
            snippets=snippets,
        )
        if english.count:
            english.locale = locale.language_code
            english.fallback_locale = settings.LANGUAGE_CODE
            return english
    return SearchResult(
        query=normalized,
        locale=locale.language_code,
        count=count,
        hits=hits,
        suggestion=suggestion,
        fuzzy=fuzzy,
    )


@cached_result
def article_suggest(
    *, prefix: str, locale: Locale, limit: int = 8, include_internal: bool = False
) -> list[ArticlePage]:
    """Titles for suggest-as-you-type: live articles whose title words start so."""
    prefix = query_normalize(prefix)
    if not prefix:
        return []
    # Only what a suggestion shows: a title and a URL, not the bodies.
    visible = _visible(locale, include_internal=include_internal)
    return list(
        visible.only("title", "url_path", "locale").autocomplete(
            prefix, fields=["title"], operator="and"
        )[:limit]
    )


def article_list_useful(
    *, locale: Locale, limit: int = 5, include_internal: bool = False
) -> list[ArticlePage]:
    """What to offer when a search finds nothing: the locale's most useful articles.

    Customer-facing, so public articles only, whatever `include_internal` says.
    """
    from articles.selectors import article_list_popular

    return article_list_popular(locale=locale, limit=limit)


ANSWER_ALTERNATIVES = 3


@dataclass
class AnswerCandidate:
    hit: SearchHit
    features: AnswerFeatures
    confidence: float


def answer_candidates(*, result: SearchResult, query: str) -> list[AnswerCandidate]:
    """The hits of a search, each with the confidence that it answers `query`."""
    hits = result.hits
    prefetch_related_objects([hit.article for hit in hits], "tags")
    scores = [max(hit.score, 0.0) for hit in hits]
    top = max(scores, default=0.0)
    candidates = []
    for index, hit in enumerate(hits):
        others = scores[:index] + scores[index + 1 :]
        article = hit.article
        text = "\n".join(
            [
                article.summary,
                " ".join(tag.name for tag in article.tags.all()),
                article.body_plain(),
            ]
        )
        features = candidate_features(
            query=query,
            language_code=article.locale.language_code,
            title=article.title,
            text=text,
            score=scores[index],
            other_best=max(others, default=0.0),
            top_score=top,
            fuzzy=result.fuzzy,
            fallback=result.fallback_locale is not None,
        )
        confidence = confidence_from_features(features)
        if hit.promoted:
            confidence = max(confidence, PROMOTED_CONFIDENCE)
        candidates.append(AnswerCandidate(hit, features, confidence))
    return candidates


def answer_best(
    *, query: str, locale: Locale, include_internal: bool = False
) -> Answer:
    """The article that best answers a question, the passage to quote from its live
    revision, a calibrated confidence, up to three alternatives, and whether to hand
    the question over to a person (confidence under KB_ANSWER_HANDOFF_BELOW).

    Raises SearchQueryError for a query that cannot be run.
    """
    result = article_search(
        query=query,
        locale=locale,
        limit=1 + ANSWER_ALTERNATIVES,
        include_internal=include_internal,
        snippets=False,
    )
    threshold = settings.KB_ANSWER_HANDOFF_BELOW
    candidates = answer_candidates(result=result, query=result.suggestion or query)
    if not candidates:
        return Answer(
            query=result.query,
            locale=result.locale,
            article=None,
            passage="",
            confidence=0.0,
            handoff=True,
        )
    best, rest = candidates[0].hit, candidates[1:]
    confidence = candidates[0].confidence
    article = best.article
    passage = passage_best(
        text=article.body_plain() or article.summary,
        query=result.suggestion or query,
        language_code=article.locale.language_code,
        faq=article.kind == ArticleKind.FAQ,
    )
    return Answer(
        query=result.query,
        locale=result.locale,
        article=AnswerArticle(
            id=article.pk,
            title=article.title,
            url=best.url,
            revision_id=article.live_revision_id,
        ),
        passage=passage,
        confidence=confidence,
        handoff=confidence < threshold,
        alternatives=[
            AnswerAlternative(
                id=c.hit.article.pk,
                title=c.hit.title,
                url=c.hit.url,
                confidence=c.confidence,
            )
            for c in rest
        ],
        fallback_locale=result.fallback_locale,
    )
