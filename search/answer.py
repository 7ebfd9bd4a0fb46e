"""The parts of a bot answer: the passage to quote and how sure we are of it.

`search.selectors.answer_best` runs the search and builds an `Answer` from these
pieces. Nothing here knows which search backend runs: the confidence is a logistic
function of features that every backend gives the same meaning to (how far the best
hit leads the next, how much of the question the article and its title cover, whether
the hit needed a fuzzy retry or an English fallback), not a raw BM25 score.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from search.analysis import language_group, query_clauses, text_terms

PASSAGE_MAX_CHARS = 600
# A best-matching line shorter than this (a heading, a list item) is quoted with the
# lines after it, up to PASSAGE_MAX_CHARS.
PASSAGE_MIN_CHARS = 200
# A writer who promotes an article for a query says it answers that query.
PROMOTED_CONFIDENCE = 0.9
ELLIPSIS = "…"

_SENTENCE_END_RE = re.compile(r"[.!?;:](?=\s)|[。！？；]|\n")


@dataclass(frozen=True)
class AnswerArticle:
    """The article an answer cites: its live revision is the one quoted."""

    id: int
    title: str
    url: str
    revision_id: int | None


@dataclass(frozen=True)
class AnswerAlternative:
    id: int
    title: str
    url: str
    confidence: float


@dataclass
class Answer:
    """The best answer to a question; `article` is None when nothing matched."""

    query: str
    locale: str
    article: AnswerArticle | None
    passage: str
    confidence: float
    handoff: bool
    alternatives: list[AnswerAlternative] = field(default_factory=list)
    # "en" when the locale had no match and the answer is an untranslated article.
    fallback_locale: str | None = None


@dataclass(frozen=True)
class AnswerFeatures:
    """What the confidence of one candidate article is computed from (all in [0, 1]
    but `lead`, in [-1, 1])."""

    # (score - best other candidate's score) / top score: > 0 only for the top hit.
    lead: float
    # Share of the query's words (after stop words and stemming) found in the article.
    coverage: float
    # Share of the query's words found in the title (an FAQ's question).
    title_coverage: float
    # Share of the title's words found in the query.
    title_back: float
    fuzzy: bool = False
    fallback: bool = False

    def vector(self) -> list[float]:
        return [
            1.0,
            self.lead,
            self.coverage,
            self.title_coverage,
            self.title_back,
            float(self.fuzzy),
            float(self.fallback),
        ]


FEATURE_NAMES = (
    "bias",
    "lead",
    "coverage",
    "title_coverage",
    "title_back",
    "fuzzy",
    "fallback",
)
# Logistic-regression weights, in FEATURE_NAMES order, fitted on StackFAQ (answer
# level, 4,988 candidates of 1,249 questions) with `manage.py search_eval
# ../shared/datasets/stackfaq --answers --fit` on 2026-11-23 (docs/search-quality.md).
# StackFAQ has no fuzzy or fallback hits, so those two weights are set by hand: a
# typo-corrected or untranslated hit is less likely to be the answer.
CONFIDENCE_WEIGHTS = (-2.215, 2.364, 0.094, 3.203, 3.668, -1.5, -1.0)


def confidence_from_features(
    features: AnswerFeatures, weights: tuple[float, ...] = CONFIDENCE_WEIGHTS
) -> float:
    """The probability, in [0, 1], that a candidate answers the question."""
    z = sum(w * x for w, x in zip(weights, features.vector(), strict=True))
    z = max(-30.0, min(30.0, z))
    return round(1.0 / (1.0 + math.exp(-z)), 4)


def _share(clauses, terms: set[str]) -> float:
    if not clauses:
        return 0.0
    matched = sum(1 for clause in clauses if any(t in terms for t in clause.terms))
    return matched / len(clauses)


def candidate_features(
    *,
    query: str,
    language_code: str,
    title: str,
    text: str,
    score: float,
    other_best: float,
    top_score: float,
    fuzzy: bool = False,
    fallback: bool = False,
) -> AnswerFeatures:
    """The features of one candidate; `text` is everything searchable but the title."""
    group = language_group(language_code)
    clauses = query_clauses(query, group)
    title_terms = text_terms(title, group)
    all_terms = title_terms | text_terms(text, group)
    title_clauses = query_clauses(title, group)
    query_terms = {term for clause in clauses for term in clause.terms}
    lead = (score - other_best) / top_score if top_score > 0 else 0.0
    return AnswerFeatures(
        lead=max(-1.0, min(1.0, lead)),
        coverage=_share(clauses, all_terms),
        title_coverage=_share(clauses, title_terms),
        title_back=_share(title_clauses, query_terms),
        fuzzy=fuzzy,
        fallback=fallback,
    )


def passage_cut(text: str, max_chars: int = PASSAGE_MAX_CHARS) -> str:
    """`text` cut to at most `max_chars`: at the last sentence end when one falls in
    the second half, else at a word boundary with an ellipsis."""
    text = text.strip()
    if len(text) <= max_chars:
        return text
    window = text[: max_chars + 1]
    ends = [m.end() for m in _SENTENCE_END_RE.finditer(window) if m.end() <= max_chars]
    if ends and ends[-1] >= max_chars // 2:
        return text[: ends[-1]].rstrip()
    window = text[: max_chars - len(ELLIPSIS)]
    space = window.rfind(" ")
    if space >= max_chars // 2:
        window = window[:space]
    return window.rstrip(" ,;:-–—") + ELLIPSIS


def passage_best(
    *, text: str, query: str, language_code: str, faq: bool = False
) -> str:
    """The paragraph of an article's plain text (one paragraph per line) that best
    matches the query, with the lines after it when it is short; an FAQ's answer is
    its opening. Plain text, at most PASSAGE_MAX_CHARS."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    best = 0
    if not faq:
        group = language_group(language_code)
        clauses = query_clauses(query, group)
        best_matched = 0
        for index, line in enumerate(lines):
            terms = text_terms(line, group)
            matched = sum(1 for c in clauses if any(t in terms for t in c.terms))
            if matched > best_matched:
                best, best_matched = index, matched
    passage = lines[best]
    for line in lines[best + 1 :]:
        if len(passage) >= PASSAGE_MIN_CHARS:
            break
        if len(passage) + 1 + len(line) > PASSAGE_MAX_CHARS:
            break
        passage = f"{passage}\n{line}"
    return passage_cut(passage)
