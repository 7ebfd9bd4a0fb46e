"""Text analysis per language: tokenising, stemming, folding and highlighting.

Every language shares one tokenizer: words for alphabetic scripts, overlapping
character bigrams (plus single characters) for Chinese, Japanese and Korean runs, so
Latin words inside CJK text and CJK words inside English text both stay searchable.
Languages differ in their filters: Snowball stemming and stop words where Snowball
has the language, none for CJK runs.
"""

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer
from django.utils.safestring import SafeString, mark_safe
from whoosh.analysis import Filter, Token, Tokenizer
from whoosh.lang.stopwords import stoplists

DEFAULT_LANGUAGE = "en"
CJK_GROUP = "cjk"
PLAIN_GROUP = "plain"
CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})
EDGE_NGRAM_MAX = 20

_SNOWBALL_NAMES = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
SNOWBALL_LANGUAGES = {
    code: name
    for code, name in _SNOWBALL_NAMES.items()
    if name in snowballstemmer.algorithms()
}

# whoosh.lang has no Indonesian list; these are the most frequent function words.
_INDONESIAN_STOP_WORDS = frozenset(
    """
    ada adalah agar akan aku anda antara apa apakah atau bagaimana bagi bahwa banyak
    beberapa belum bisa boleh dalam dan dapat dari dengan di dia hanya harus ini itu
    jika juga kami kamu karena ke kita lagi lebih maka masih mereka namun oleh pada
    para saat saja sangat saya sebagai sebuah secara sedang sehingga sejak semua serta
    seperti setelah sudah supaya tanpa telah tentang tetapi tidak untuk yaitu yang
    """.split()
)

_CJK_CHARS = (
    "\u2e80-\u2fdf"  # CJK radicals
    "\u3005-\u3007"  # iteration and ideographic number marks
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3100-\u312f"  # bopomofo
    "\u3130-\u318f"  # hangul compatibility jamo
    "\u31a0-\u31bf"
    "\u31f0-\u31ff"
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # compatibility ideographs
    "\uff66-\uff9f"  # half-width katakana
    "\U00020000-\U0002fa1f"  # extensions B and later
)
_TOKEN_RE = re.compile(
    rf"(?P<cjk>[{_CJK_CHARS}]+)"
    rf"|(?P<word>[^\W_{_CJK_CHARS}](?:[^\W_{_CJK_CHARS}]|[\u0300-\u036f])*"
    rf"(?:['\u2019][^\W_{_CJK_CHARS}]+)*)"
)
_CJK_RE = re.compile(rf"[{_CJK_CHARS}]")

# Letters that carry no decomposition but that readers type without the stroke.
_SPECIAL_FOLDS = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ł": "l",
    "þ": "th",
    "ı": "i",
    # ё is written as е in most Russian text; й is a letter of its own and stays.
    "ё": "е",
}


def language_group(language_code: str | None) -> str:
    """Returns the analysis group for a language code ("sv", "zh-hant", None...)."""
    if not language_code:
        return DEFAULT_LANGUAGE
    base = language_code.lower().replace("_", "-").split("-")[0]
    if base in CJK_LANGUAGES:
        return CJK_GROUP
    if base in SNOWBALL_LANGUAGES:
        return base
    return PLAIN_GROUP


def is_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def fold(text: str) -> str:
    """Strips accents from Latin letters; Cyrillic (but ё), Greek and others stay."""
    if text.isascii():
        return text
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
        elif char in _SPECIAL_FOLDS:
            out.append(_SPECIAL_FOLDS[char])
        else:
            decomposed = unicodedata.normalize("NFD", char)
            if decomposed[0].isascii():
                out.append(
                    "".join(c for c in decomposed if not unicodedata.combining(c))
                )
            elif unicodedata.combining(char) and out and out[-1].isascii():
                continue  # a combining accent left over from a decomposed Latin letter
            else:
                out.append(char)
    return "".join(out)


class KbTokenizer(Tokenizer):
    """Words for alphabetic scripts, character bigrams for CJK runs.

    At index time a CJK run yields every single character and every bigram, so both
    one-character and longer queries find it; at query time it yields bigrams only
    (or the character itself for a one-character run). A run of n characters takes
    n - 1 positions (its bigrams), so phrase positions agree between index and query.
    Tokens from one CJK run carry the same ``cjk_run`` number; words carry None.
    """

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for run_number, match in enumerate(_TOKEN_RE.finditer(value)):
            start = match.start()
            if match.lastgroup == "word":
                yield self._emit(token, match.group(), pos, start_char + start, None)
                pos += 1
                continue
            run = match.group()
            if len(run) == 1:
                yield self._emit(token, run, pos, start_char + start, run_number)
                pos += 1
                continue
            for offset in range(len(run) - 1):
                yield self._emit(
                    token,
                    run[offset : offset + 2],
                    pos + offset,
                    start_char + start + offset,
                    run_number,
                )
            if mode != "query":
                for offset, char in enumerate(run):
                    yield self._emit(
                        token,
                        char,
                        pos + min(offset, len(run) - 2),
                        start_char + start + offset,
                        run_number,
                    )
            pos += len(run) - 1

    @staticmethod
    def _emit(token, text, pos, startchar, run_number):
        token.text = text
        token.original = text
        token.boost = 1.0
        token.stopped = False
        token.pos = pos
        token.startchar = startchar
        token.endchar = startchar + len(text)
        token.cjk_run = run_number
        return token


class NormalizeFilter(Filter):
    """NFKC (full-width Latin, compatibility ideographs) and lowercase."""

    def __call__(self, tokens):
        for token in tokens:
            text = token.text
            if not text.isascii():
                text = unicodedata.normalize("NFKC", text)
            token.text = text.lower()
            yield token


class QueryStopFilter(Filter):
    """Drops stop words from queries only: the index keeps them, so phrases stay exact
    and a query made only of stop words can still be answered."""

    def __init__(self, stopwords=()):
        self.stopwords = frozenset(stopwords)

    def __call__(self, tokens):
        for token in tokens:
            if (
                token.mode == "query"
                and token.removestops
                and token.text in self.stopwords
            ):
                continue
            yield token


class SnowballFilter(Filter):
    """Snowball stemming of words (CJK tokens pass through)."""

    is_morph = True

    def __init__(self, language: str):
        self.language = language
        self._stemmer = None
        self._cache = {}

    def __getstate__(self):
        # Schemas are pickled into the index; the stemmer and its cache are rebuilt.
        return {"language": self.language}

    def __setstate__(self, state):
        self.__init__(state["language"])

    def __eq__(self, other):
        return type(other) is type(self) and other.language == self.language

    def __hash__(self):
        return hash((type(self), self.language))

    def stem(self, word: str) -> str:
        stemmed = self._cache.get(word)
        if stemmed is None:
            if self._stemmer is None:
                self._stemmer = snowballstemmer.stemmer(self.language)
            stemmed = self._stemmer.stemWord(word)
            if len(self._cache) < 50_000:
                self._cache[word] = stemmed
        return stemmed

    def __call__(self, tokens):
        for token in tokens:
            if getattr(token, "cjk_run", None) is None:
                token.text = self.stem(token.text)
            yield token


class FoldFilter(Filter):
    """Accent folding after stemming, so Swedish å/ä/ö and Russian й still stem."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = fold(token.text)
            yield token


class EdgeNgramFilter(Filter):
    """Index-time word prefixes for autocomplete; queries pass through (trimmed)."""

    def __init__(self, maxsize: int = EDGE_NGRAM_MAX):
        self.maxsize = maxsize

    def __call__(self, tokens):
        for token in tokens:
            text = token.text
            if token.mode == "query":
                token.text = text[: self.maxsize]
                yield token
                continue
            for size in range(1, min(len(text), self.maxsize) + 1):
                token.text = text[:size]
                yield token


def _stop_words(group: str) -> frozenset[str]:
    if group == "id":
        return _INDONESIAN_STOP_WORDS
    if group == CJK_GROUP:
        return frozenset(stoplists["en"])
    return frozenset(stoplists.get(group, ()))


@cache
def group_analyzer(group: str):
    """Returns the Whoosh analyser of an analysis group (see ``language_group``)."""
    analyzer = KbTokenizer() | NormalizeFilter() | QueryStopFilter(_stop_words(group))
    if group == CJK_GROUP:
        # Latin words inside Chinese or Japanese text are usually English.
        analyzer = analyzer | SnowballFilter("english")
    elif group in SNOWBALL_LANGUAGES:
        analyzer = analyzer | SnowballFilter(SNOWBALL_LANGUAGES[group])
    return analyzer | FoldFilter()


def analyzer_for(language_code: str | None):
    """Returns the Whoosh analyser for a language code, such as "sv" or "zh-hant"."""
    return group_analyzer(language_group(language_code))


@cache
def autocomplete_analyzer():
    """Unstemmed, folded word prefixes (CJK bigrams and characters) for autocomplete."""
    return KbTokenizer() | NormalizeFilter() | FoldFilter() | EdgeNgramFilter()


@dataclass(frozen=True)
class QueryClause:
    """One query word, or the bigrams of one CJK run (any of which may match)."""

    terms: tuple[str, ...]
    cjk: bool = False


def _clauses(analyzer, text: str, removestops: bool) -> list[QueryClause]:
    clauses: list[QueryClause] = []
    run_terms: list[str] = []
    current_run = None
    for token in analyzer(text, mode="query", removestops=removestops):
        run = getattr(token, "cjk_run", None)
        if run is not None and run == current_run:
            run_terms.append(token.text)
            continue
        if run_terms:
            clauses.append(QueryClause(tuple(run_terms), cjk=True))
            run_terms = []
        current_run = run
        if run is None:
            clauses.append(QueryClause((token.text,)))
        else:
            run_terms.append(token.text)
    if run_terms:
        clauses.append(QueryClause(tuple(run_terms), cjk=True))
    return clauses


def query_clauses(text: str, group: str) -> list[QueryClause]:
    """Analyses a query for one group; stop words go unless nothing else is left."""
    return list(_query_clauses(text, group))


@lru_cache(maxsize=4096)
def _query_clauses(text: str, group: str) -> tuple[QueryClause, ...]:
    # One search analyses its query several times (compiling, ranking, highlighting
    # every hit).
    analyzer = group_analyzer(group)
    return tuple(
        _clauses(analyzer, text, removestops=True)
        or _clauses(analyzer, text, removestops=False)
    )


def phrase_terms(text: str, group: str) -> list[str]:
    """Analyses a phrase for one group, keeping stop words (the index keeps them)."""
    return [
        token.text
        for token in group_analyzer(group)(text, mode="query", removestops=False)
    ]


def autocomplete_clauses(text: str) -> list[QueryClause]:
    """Analyses an autocomplete query: unstemmed prefixes."""
    return _clauses(autocomplete_analyzer(), text, removestops=False)


@lru_cache(maxsize=200_000)
def _word_term(group: str, word: str) -> str | None:
    for token in group_analyzer(group)(word, mode="index"):
        return token.text
    return None


def index_tokens(text: str, group: str) -> Iterator[tuple[str, int, int]]:
    """(term, start, end) of each token ``group_analyzer(group)`` indexes in ``text``.

    The same terms as running the analyser over the whole text, but each distinct word
    is analysed once per process (a help center's vocabulary is small), which makes
    highlighting and answer scoring cheap; CJK runs go through the analyser.
    """
    for match in _TOKEN_RE.finditer(text):
        if match.lastgroup == "word":
            term = _word_term(group, match.group())
            if term:
                yield term, match.start(), match.end()
            continue
        for token in group_analyzer(group)(
            match.group(), mode="index", chars=True, start_char=match.start()
        ):
            yield token.text, token.startchar, token.endchar


def text_terms(text: str, group: str) -> set[str]:
    """The distinct terms ``group_analyzer(group)`` indexes in ``text``: the terms of
    ``index_tokens``, with each distinct word of the text looked up once."""
    terms: set[str] = set()
    for cjk, word in set(_TOKEN_RE.findall(text)):
        if word:
            term = _word_term(group, word)
            if term:
                terms.add(term)
        else:
            terms.update(token for token, _, _ in index_tokens(cjk, group))
    return terms


def term_spans(text: str, group: str, wanted: set[str]) -> list[tuple[int, int, str]]:
    """(start, end, term) of each token of ``text`` whose term is in ``wanted``.

    Equal to filtering ``index_tokens``, but a text without CJK is analysed only once
    per distinct word, and then scanned for the few words that matter."""
    if not text.isascii() and _CJK_RE.search(text):
        return [
            (start, end, term)
            for term, start, end in index_tokens(text, group)
            if term in wanted
        ]
    surface: dict[str, str] = {}
    for word in _candidate_words(text):
        term = _word_term(group, word)
        if term in wanted:
            surface[word] = term
    if not surface:
        return []
    # Find the few words that matter with one regular expression, keeping only the
    # occurrences that are whole tokens (not "log" inside "blog" or "login").
    pattern = re.compile(
        "|".join(re.escape(word) for word in sorted(surface, key=len, reverse=True))
    )
    return [
        (match.start(), match.end(), surface[match.group()])
        for match in pattern.finditer(text)
        if _is_token(text, match.start(), match.end())
    ]


_PIECE_RE = re.compile(rf"[^\W_{_CJK_CHARS}]+")
_APOSTROPHE_WORD_RE = re.compile(
    rf"[^\W_{_CJK_CHARS}]+(?:['\u2019][^\W_{_CJK_CHARS}]+)+"
)
_COMBINING_RE = re.compile(r"[\u0300-\u036f]")
# Every ASCII character that is not a letter or digit (so also "_"), as a space.
_ASCII_SEPARATORS = str.maketrans(
    {chr(code): " " for code in range(128) if not chr(code).isalnum()}
)


def _candidate_words(text: str) -> set[str]:
    """Every word token of a text without CJK, and perhaps some pieces of words
    ("don" of "don't"), which `_is_token` then turns away: three times cheaper than
    scanning with `_TOKEN_RE`."""
    if text.isascii():
        # The pieces _PIECE_RE finds, split out by str.translate: 2.5 times faster.
        words = set(text.translate(_ASCII_SEPARATORS).split())
    elif _COMBINING_RE.search(text):
        return {word for _, word in _TOKEN_RE.findall(text)}
    else:
        words = set(_PIECE_RE.findall(text))
    if "'" in text or "\u2019" in text:
        words.update(_APOSTROPHE_WORD_RE.findall(text))
    return words


_IN_TOKEN_RE = re.compile(r"[^\W_]|[\u0300-\u036f'\u2019]")


def _is_token(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is one whole token of ``_TOKEN_RE``'s scan."""
    before = start > 0 and _IN_TOKEN_RE.match(text, start - 1)
    if not before and not _IN_TOKEN_RE.match(text, end):
        return True  # separators on both sides (the usual case)
    run = start
    while run > 0 and _IN_TOKEN_RE.match(text, run - 1):
        run -= 1  # back to where the scan starts afresh: after a separator
    for match in _TOKEN_RE.finditer(text, run):
        if match.start() >= start:
            return match.start() == start and match.end() == end
    return False


def highlight_passage(
    text: str, query_string: str, language_code: str | None = None, max_chars: int = 240
) -> SafeString:
    """Returns the passage of ``text`` that best matches the query, as escaped HTML with
    ``<mark>`` around the matched words."""
    group = language_group(language_code)
    wanted = {
        term for clause in query_clauses(query_string, group) for term in clause.terms
    }
    spans = term_spans(text, group, wanted) if wanted else []
    start, end = _best_window(text, spans, max_chars)
    return mark_safe(_render(text, start, end, spans))  # noqa: S308 -- built from escaped text


def _best_window(text: str, spans, max_chars: int) -> tuple[int, int]:
    if not spans:
        return 0, _word_end(text, min(len(text), max_chars))
    spans = sorted(spans)
    # Slide a window of max_chars over the matches: the most distinct terms win, then
    # the most matches; the earliest window on a tie.
    best, best_score = 0, (-1, -1)
    inside: Counter[str] = Counter()
    end_index = 0
    for index, (span_start, _, term) in enumerate(spans):
        while end_index < len(spans) and spans[end_index][1] <= span_start + max_chars:
            inside[spans[end_index][2]] += 1
            end_index += 1
        if end_index > index:
            score = (len(inside), end_index - index)
            if score > best_score:
                best, best_score = index, score
            inside[term] -= 1
            if not inside[term]:
                del inside[term]
        else:
            end_index = index + 1  # a match longer than the window stands alone
            if best_score < (1, 1):
                best, best_score = index, (1, 1)
    first = spans[best][0]
    # Some context before the first match, cut at a word boundary.
    start = _word_start(text, max(0, first - max_chars // 4))
    end = _word_end(text, min(len(text), start + max_chars))
    if end <= first:
        start, end = first, min(len(text), first + max_chars)
    return start, end


def _word_start(text: str, index: int) -> int:
    if index <= 0:
        return 0
    space = text.find(" ", index)
    return space + 1 if 0 <= space < index + 20 else index


def _word_end(text: str, index: int) -> int:
    if index >= len(text):
        return len(text)
    space = text.rfind(" ", 0, index)
    return space if space > index - 20 else index


def _render(text: str, start: int, end: int, spans) -> str:
    merged: list[list[int]] = []
    for span_start, span_end, _ in sorted(spans):
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        if merged and span_start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span_end)
        else:
            merged.append([span_start, span_end])
    parts = ["…"] if start > 0 else []
    cursor = start
    for span_start, span_end in merged:
        parts.append(_escape(text[cursor:span_start]))
        parts.append(f"<mark>{_escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    parts.append(_escape(text[cursor:end]))
    if end < len(text):
        parts.append("…")
    return "".join(parts).strip()


def _escape(fragment: str) -> str:
    return html.escape(re.sub(r"\s+", " ", fragment))
