import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.analysis import (
    analyzer_for,
    autocomplete_clauses,
    fold,
    highlight_passage,
    index_tokens,
    language_group,
    phrase_terms,
    query_clauses,
    term_spans,
    text_terms,
)


def index_terms(language_code, text):
    return [token.text for token in analyzer_for(language_code)(text, mode="index")]


def query_terms(language_code, text):
    group = language_group(language_code)
    return [term for clause in query_clauses(text, group) for term in clause.terms]


@pytest.mark.parametrize(
    ("language_code", "written", "searched"),
    [
        ("en", "Resetting forgotten passwords", "password reset"),
        ("sv", "Betalningar och hjälpen", "betalning hjälp"),
        ("ru", "Новые настройки учётной записи", "новый учетная"),
        ("id", "Pembayaran dengan kartu", "membayar kartu"),
    ],
)
def test_stemming_maps_inflected_forms_to_the_same_terms(
    language_code, written, searched
):
    assert set(query_terms(language_code, searched)) <= set(
        index_terms(language_code, written)
    )


def test_language_codes_map_to_analysis_groups():
    assert language_group(None) == "en"
    assert language_group("sv") == "sv"
    assert language_group("pt-br") == "pt"
    assert language_group("zh-hant") == "cjk"
    assert language_group("zh-Hans") == "cjk"
    assert language_group("ja") == "cjk"
    assert language_group("tlh") == "plain"


def test_russian_short_i_survives_folding_so_adjectives_still_stem():
    # Folding й to и before stemming would leave "новыи", which no longer stems.
    assert index_terms("ru", "новый") == index_terms("ru", "новые") == ["нов"]
    assert fold("чайник") == "чайник"
    assert "й" in fold("мой")


def test_russian_yo_and_ye_are_the_same_letter():
    assert index_terms("ru", "ёлка") == index_terms("ru", "елка")
    assert fold("ёж") == "еж"


def test_latin_accents_fold_after_stemming():
    assert index_terms("en", "Café Ĥéllø") == ["cafe", "hello"]
    # Swedish suffixes contain ä/ö, so folding must come after the stemmer.
    assert index_terms("sv", "hjälpen") == ["hjalp"]
    assert query_terms("sv", "hjalpen") == ["hjalp"]


def test_cjk_runs_are_indexed_as_bigrams_and_single_characters():
    terms = index_terms("zh-hant", "重設密碼")
    assert {"重設", "設密", "密碼"} <= set(terms)
    assert {"重", "設", "密", "碼"} <= set(terms)


def test_cjk_query_is_one_clause_of_bigrams():
    clauses = query_clauses("忘記密碼", "cjk")
    assert len(clauses) == 1
    assert clauses[0].cjk
    assert clauses[0].terms == ("忘記", "記密", "密碼")


def test_single_cjk_character_query_keeps_the_character():
    assert query_terms("zh-hant", "碼") == ["碼"]


def test_latin_words_inside_cjk_text_are_words():
    assert "iphon" in index_terms("zh-hant", "如何在iPhone上重設密碼")
    assert query_terms("zh-hant", "iPhones") == ["iphon"]


def test_cjk_inside_english_text_is_still_bigrammed():
    assert "密碼" in index_terms("en", "The word 密碼 means password")


def test_stop_words_are_dropped_from_queries_but_kept_in_the_index():
    assert "the" in index_terms("en", "The Two Towers")
    assert query_terms("en", "the towers") == ["tower"]
    # A query of stop words only is still answered.
    assert query_terms("en", "the") == ["the"]
    assert query_terms("id", "yang pembayaran") == ["bayar"]


def test_phrases_keep_stop_words():
    assert phrase_terms("return of the king", "en") == ["return", "of", "the", "king"]


def test_autocomplete_is_not_stemmed():
    assert [clause.terms for clause in autocomplete_clauses("Learni")] == [("learni",)]


def test_highlight_escapes_text_and_marks_matches():
    text = "<script>alert('x')</script> To reset your password, open Settings."
    passage = highlight_passage(text, "reset passwords", "en")
    assert "<script>" not in passage
    assert "&lt;script&gt;" in passage
    assert "<mark>reset</mark>" in passage
    assert "<mark>password</mark>" in passage


def test_highlight_picks_the_passage_with_the_matches():
    text = (
        "Introduction. " + "Filler words here. " * 40 + "Your invoice is sent monthly."
    )
    passage = highlight_passage(text, "invoice", "en", max_chars=80)
    assert "<mark>invoice</mark>" in passage
    assert passage.startswith("…")
    assert len(passage) < 140


def test_highlight_marks_chinese_words():
    passage = highlight_passage(
        "請在設定中重設您的密碼，然後重新登入。", "密碼", "zh-hant"
    )
    assert "<mark>密碼</mark>" in passage


def test_highlight_without_matches_returns_the_start():
    passage = highlight_passage("Plain <b>text</b> only.", "zebra", "en")
    assert passage == "Plain &lt;b&gt;text&lt;/b&gt; only."


@pytest.mark.parametrize(
    ("language_code", "text"),
    [
        ("en", "Resetting forgotten passwords: open **Settings** → Security, café."),
        ("sv", "Betalningar och hjälpen; Åsa's kvitton."),
        ("ru", "Новые настройки учётной записи и пароль."),
        ("id", "Pembayaran dengan kartu kredit."),
        ("zh-hant", "如何重設密碼？使用 email 登入 Kestrel 帳戶。"),
    ],
)
def test_word_by_word_analysis_gives_the_indexs_terms_and_offsets(language_code, text):
    group = language_group(language_code)
    whole = [
        (token.text, token.startchar, token.endchar)
        for token in analyzer_for(language_code)(text, mode="index", chars=True)
    ]

    assert list(index_tokens(text, group)) == whole


# Pieces that trip word boundaries: words inside words, apostrophes, accents written
# with combining marks, underscores, hyphens, Cyrillic and CJK next to Latin.
_PIECES = [
    "log",
    "login",
    "blog",
    "logs",
    "don't",
    "don",
    "t",
    "it\u2019s",
    "it",
    "café",
    "cafe\u0301",
    "_",
    "-",
    " ",
    ".",
    "'",
    "\u2019",
    "ß",
    "Straße",
    "passwords",
    "password",
    "pass",
    "x'ab",
    "ab",
    "L'été",
    "re-set",
    "résumé",
    "über_alles",
    "пароль",
    "пароли",
    "\n",
    "v2",
    "e-mail",
    "密碼",
    "重設",
]


@settings(max_examples=300, deadline=None)
@given(
    language_code=st.sampled_from(["en", "sv", "ru", "id", "zh-hant"]),
    pieces=st.lists(
        st.tuples(st.sampled_from(_PIECES), st.sampled_from(["", " ", ", "])),
        min_size=1,
        max_size=14,
    ),
    picks=st.lists(st.integers(min_value=0), min_size=1, max_size=3),
)
def test_term_spans_and_text_terms_agree_with_the_full_analysis(
    language_code, pieces, picks
):
    group = language_group(language_code)
    text = "".join(piece + gap for piece, gap in pieces)
    every = list(index_tokens(text, group))
    wanted = {every[pick % len(every)][0] for pick in picks} if every else {"log"}

    assert sorted(term_spans(text, group, wanted)) == sorted(
        (start, end, term) for term, start, end in every if term in wanted
    )
    assert text_terms(text, group) == {term for term, _, _ in every}
