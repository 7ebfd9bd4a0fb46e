"""Whoosh queries scored a whole posting list at a time, with NumPy.

Whoosh walks its matcher trees one document at a time in Python: a question made of
common help-center words ("reset my account password") matches most of a 10k-article
index in five fields per word, and Whoosh then makes millions of Python calls (about
300 ms) to score and count it; its block-quality skipping cannot help an OR of ten
posting lists that all have good documents in every block.

`top_documents` computes the same result a term at a time: each term's posting list is
read block by block (Whoosh's own codec), scored with Whoosh's own BM25F formula and
statistics (idf and average length from the top searcher, the stored byte-encoded
field lengths), and added into a score vector over all document numbers; AND, OR and
NOT combine match masks. Decoded postings are kept with the warm searcher, so a word
already asked for costs one vector addition. Subqueries this module does not know
(phrases, prefix and range queries, nested documents) are run by Whoosh's own matcher
for their matches only, so every query gives exactly what Whoosh would give: the same
documents, the same scores (to float rounding), the same count, the same tie order
(lower document number first). Sorted searches and facets stay with Whoosh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching import ListMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import bm25
from whoosh.util.numeric import byte_to_length

# Decoded term postings kept per warm searcher, counted in postings: about 16 bytes
# each, so the default holds ~32 MB per index per process.
POSTINGS_CACHE_SIZE = 2_000_000

_BYTE_TO_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class _Terms:
    """An LRU of (field, text) -> (document numbers, BM25F scores), by size."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.size = 0
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, entry):
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = entry
            self.size += len(entry[0])
            while self.size > self.capacity and len(self.entries) > 1:
                _, (ids, _) = self.entries.popitem(last=False)
                self.size -= len(ids)


class _State:
    """What one warm searcher keeps for vector scoring."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.size = searcher.doc_count_all()
        self.leaves = list(searcher.leaf_searchers())
        self.terms = _Terms(POSTINGS_CACHE_SIZE)
        self.lengths: dict[str, np.ndarray] = {}
        self.masks: OrderedDict = OrderedDict()
        live = np.ones(self.size, dtype=bool)
        for leaf, offset in self.leaves:
            reader = leaf.reader()
            if reader.has_deletions():
                # The set Whoosh's own postings() filters deleted documents with.
                gone = np.fromiter(reader.deleted_docs_set, dtype=np.int64)
                live[gone + offset] = False
        self.live = live


def _state(searcher) -> _State:
    state = searcher.__dict__.get("_kb_vector")
    if state is None:
        state = searcher.__dict__["_kb_vector"] = _State(searcher)
    return state


# --- Term postings -------------------------------------------------------------------


def _leaf_lengths(leaf, fieldname: str) -> np.ndarray:
    """Field lengths of a segment's documents, as Whoosh's scorer decodes them."""
    reader = leaf.reader()
    count = reader.doc_count_all()
    perdoc = getattr(reader, "_perdoc", None)
    column = None
    if perdoc is not None and hasattr(perdoc, "_cached_reader"):
        column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return np.ones(count, dtype=np.float64)
    try:
        raw = column._dbfile.get(column._basepos, column._count)
        codes = np.zeros(count, dtype=np.uint8)
        codes[: column._count] = np.frombuffer(raw, dtype=np.uint8)[:count]
    except AttributeError:  # another column layout: ask document by document
        codes = np.array([column[d] for d in range(count)], dtype=np.uint8)
    return _BYTE_TO_LENGTH[codes]


def _lengths(state: _State, fieldname: str) -> np.ndarray:
    lengths = state.lengths.get(fieldname)
    if lengths is None:
        parts = [_leaf_lengths(leaf, fieldname) for leaf, _ in state.leaves]
        lengths = state.lengths[fieldname] = np.concatenate(parts)
    return lengths


def _raw_postings(reader, fieldname: str, text) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights of a term in one segment, deleted ones included."""
    matcher = reader.postings(fieldname, text)
    while isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if isinstance(matcher, W3LeafMatcher):
        return _block_postings(matcher)
    ids: list = []
    weights: list = []
    if isinstance(matcher, ListMatcher):
        ids.extend(matcher._ids)
        weights.extend(matcher._weights or [1.0] * len(matcher._ids))
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)


def _block_postings(matcher: W3LeafMatcher) -> tuple[np.ndarray, np.ndarray]:
    """A posting list read block by block, decoded with NumPy (the layout of
    ``W3LeafMatcher._read_ids`` and ``_read_weights``: delta-coded ids, and weights
    that are an array, one float for the whole block, or None for all 1.0)."""
    ids, weights = [], []
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        raw_ids, raw_weights = matcher._data[0], matcher._data[1]
        count = matcher._blocklength
        block_ids = np.asarray(raw_ids, dtype=np.int64)
        ids.append(block_ids if matcher._byteids else np.cumsum(block_ids))
        if raw_weights is None:
            weights.append(np.ones(count))
        elif isinstance(raw_weights, float):
            weights.append(np.full(count, raw_weights))
        else:
            weights.append(np.asarray(raw_weights, dtype=np.float64))
        matcher._next_block()
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(ids), np.concatenate(weights)


def _term(state: _State, fieldname: str, text) -> tuple[np.ndarray, np.ndarray]:
    """A term's matching documents and their unboosted scores, as Whoosh scores them."""
    key = (fieldname, text)
    entry = state.terms.get(key)
    if entry is not None:
        return entry
    searcher = state.searcher
    schema = searcher.schema
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
    if fieldname not in schema:
        return empty
    field = schema[fieldname]
    try:
        btext = field.to_bytes(text)
    except ValueError:
        return empty
    if (fieldname, btext) not in searcher.reader():
        state.terms.put(key, empty)
        return empty
    all_ids, all_weights = [], []
    for leaf, offset in state.leaves:
        reader = leaf.reader()
        if (fieldname, btext) not in reader:
            continue
        ids, weights = _raw_postings(reader, fieldname, btext)
        all_ids.append(ids + offset)
        all_weights.append(weights)
    ids = np.concatenate(all_ids) if all_ids else empty[0]
    weights = np.concatenate(all_weights) if all_weights else empty[1]
    if field.scorable:
        # Whoosh's own formula, on arrays (the searcher's weighting is BM25F).
        scores = bm25(
            searcher.idf(fieldname, btext),
            weights,
            _lengths(state, fieldname)[ids],
            searcher.avg_field_length(fieldname) or 1,
            searcher.weighting.B,
            searcher.weighting.K1,
        )
    else:
        scores = weights
    entry = (ids, scores)
    state.terms.put(key, entry)
    return entry


# --- Query trees ---------------------------------------------------------------------


def _matched_by_whoosh(state: _State, query) -> tuple[np.ndarray, np.ndarray]:
    """Any other subquery: Whoosh's own matcher, walked over its matches."""
    mask = np.zeros(state.size, dtype=bool)
    scores = np.zeros(state.size, dtype=np.float64)
    context = state.searcher.context()
    for leaf, offset in state.leaves:
        matcher = query.matcher(leaf, context)
        ids, values = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            values.append(matcher.score())
            matcher.next()
        if ids:
            positions = np.asarray(ids, dtype=np.int64) + offset
            mask[positions] = True
            scores[positions] = values
    return mask, scores


def _evaluate(state: _State, query) -> tuple[np.ndarray, np.ndarray]:
    """(documents matched, their scores) for a query over all document numbers."""
    kind = type(query)
    if query is wq.NullQuery or kind is wq.NullQuery.__class__:
        return np.zeros(state.size, dtype=bool), np.zeros(state.size)
    if kind is wq.Term:
        ids, base = _term(state, query.fieldname, query.text)
        mask = np.zeros(state.size, dtype=bool)
        scores = np.zeros(state.size, dtype=np.float64)
        mask[ids] = True
        scores[ids] = base * query.boost if query.boost != 1.0 else base
        return mask, scores
    if kind is wq.Not:
        matched, _ = _evaluate(state, query.query)
        # Whoosh's inverse matcher scores every document it lets through as 1.
        mask = ~matched & state.live
        return mask, mask.astype(np.float64)
    if (kind is wq.Or and not query.minmatch and query.scale is None) or (
        kind is wq.And
    ):
        return _combine(state, query, kind is wq.And)
    return _matched_by_whoosh(state, query)


def _combine(state: _State, query, every: bool) -> tuple[np.ndarray, np.ndarray]:
    """An AND (``every``) or a plain OR: scores summed over the subqueries that match.

    Terms are added straight into the result at their own documents, not through a
    vector over all documents each (most of a query's subqueries are terms)."""
    subqueries = query.subqueries
    if not subqueries:
        return np.zeros(state.size, dtype=bool), np.zeros(state.size)
    scores = np.zeros(state.size, dtype=np.float64)
    if every:
        matched = np.zeros(state.size, dtype=np.int32)  # subqueries each matches
    else:
        mask = np.zeros(state.size, dtype=bool)
    for sub in subqueries:
        if type(sub) is wq.Term:
            ids, base = _term(state, sub.fieldname, sub.text)
            scores[ids] += base * sub.boost if sub.boost != 1.0 else base
            if every:
                matched[ids] += 1
            else:
                mask[ids] = True
            continue
        sub_mask, sub_scores = _evaluate(state, sub)
        scores += sub_scores
        if every:
            matched += sub_mask
        else:
            mask |= sub_mask
    if every:
        mask = matched == len(subqueries)
        scores[~mask] = 0.0  # a partial match must not add to an enclosing OR
    if query.boost != 1.0:
        scores *= query.boost
    return mask, scores


def _allowed_mask(state: _State, allowed) -> np.ndarray:
    """A filter's document set (a Whoosh id set) as a mask, kept with the searcher."""
    if allowed is None:
        return state.live
    key = id(allowed)
    entry = state.masks.get(key)
    if entry is not None and entry[0] is allowed:
        return entry[1]
    mask = np.zeros(state.size, dtype=bool)
    mask[np.fromiter(iter(allowed), dtype=np.int64)] = True
    mask &= state.live
    state.masks[key] = (allowed, mask)
    if len(state.masks) > 64:
        state.masks.popitem(last=False)
    return mask


def top_documents(searcher, query, allowed, limit: int | None):
    """The best `limit` (all with None) documents of `query` among `allowed`, as
    (document numbers, scores), best first, and the number of all matches."""
    state = _state(searcher)
    mask, scores = _evaluate(state, query)
    mask &= _allowed_mask(state, allowed)
    docnums = np.flatnonzero(mask)
    total = len(docnums)
    if not total or limit == 0:
        return [], [], total
    found = scores[docnums]
    if limit is not None and limit < total:
        # The limit-th best score, then every document at least that good (ties).
        cut = np.partition(found, total - limit)[total - limit]
        keep = found >= cut
        docnums, found = docnums[keep], found[keep]
    order = np.lexsort((docnums, -found))
    if limit is not None:
        order = order[:limit]
    return docnums[order].tolist(), found[order].tolist(), total
