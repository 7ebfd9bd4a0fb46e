"""article_search on a real Whoosh index (per-test temp dir) and the real database."""

import pytest
from wagtail.contrib.search_promotions.models import Query, SearchPromotion
from wagtail.models import Locale

from search.models import Synonym
from search.selectors import (
    SearchQueryError,
    article_search,
    article_suggest,
    query_parse,
)
from tests import factories


@pytest.fixture
def en(db):
    home = factories.help_center("en")
    account = factories.category(home, title="Account", slug="account")
    billing = factories.category(home, title="Billing", slug="billing")
    return {
        "home": home,
        "reset": factories.article(
            account,
            title="Reset your password",
            slug="reset-your-password",
            summary="Choose a new password with a reset link.",
            body="Open the sign-in page and select **Forgot password**. Passwords expire after a year.",
        ),
        "login": factories.article(
            account,
            title="Can't log in",
            slug="cant-log-in",
            kind="troubleshooting",
            summary="What to check when you cannot get into your account.",
            body="Check your email address and Caps Lock.",
        ),
        "refund": factories.article(
            billing,
            title="Refund a customer order",
            slug="refund-a-customer-order",
            kind="faq",
            summary="Give money back for an order.",
            body="Refunds take 5 to 10 days.",
            tags=["refunds", "money"],
        ),
        "invoice": factories.article(
            billing,
            title="Understand your invoice",
            slug="understand-your-invoice",
            summary="Each line of your monthly bill.",
            body="Your invoice lists fees and refunds.",
        ),
    }


def locale(code):
    return Locale.objects.get(language_code=code)


def titles(result):
    return [h.title for h in result.hits]


def test_stemming_finds_inflected_forms_in_english(en):
    result = article_search(query="refunding orders", locale=locale("en"))
    assert titles(result)[0] == "Refund a customer order"


def test_articles_matching_all_terms_rank_before_those_matching_some(en):
    result = article_search(query="invoice refunds", locale=locale("en"))
    assert titles(result)[0] == "Understand your invoice"
    assert "Refund a customer order" in titles(result)


def test_quoted_phrase_and_exclusion(en):
    assert titles(article_search(query='"reset link"', locale=locale("en"))) == [
        "Reset your password"
    ]
    result = article_search(query="refunds -invoice", locale=locale("en"))
    assert "Understand your invoice" not in titles(result)
    assert "Refund a customer order" in titles(result)


def test_misspelt_query_finds_the_article_and_suggests_a_spelling(en):
    result = article_search(query="pasword", locale=locale("en"))
    assert titles(result)[0] == "Reset your password"
    assert result.suggestion == "password"
    assert result.fuzzy


def test_synonyms_apply_at_query_time_without_reindexing(en):
    assert "Can't log in" not in titles(
        article_search(query="sign in problems", locale=locale("en"))
    )
    Synonym.objects.create(locale=locale("en"), terms="sign in, log in, login")
    assert (
        titles(article_search(query="sign in problems", locale=locale("en")))[0]
        == "Can't log in"
    )


def test_promoted_article_is_pinned_on_top_without_reindexing(en):
    query = Query.get("password")
    SearchPromotion.objects.create(query=query, page=en["invoice"], sort_order=0)
    result = article_search(query="password", locale=locale("en"))
    assert titles(result)[0] == "Understand your invoice"
    assert result.hits[0].promoted
    assert "Reset your password" in titles(result)


def test_filters_by_kind_category_and_tag(en):
    assert titles(article_search(query="refunds", locale=locale("en"), kind="faq")) == [
        "Refund a customer order"
    ]
    assert (
        titles(
            article_search(
                query="password account", locale=locale("en"), category="billing"
            )
        )
        == []
    )
    assert titles(
        article_search(query="refunds", locale=locale("en"), tag="money")
    ) == ["Refund a customer order"]


def test_pagination(en):
    first = article_search(query="your", locale=locale("en"), limit=1, offset=0)
    second = article_search(query="your", locale=locale("en"), limit=1, offset=1)
    assert first.count == second.count >= 2
    assert titles(first) != titles(second)


def test_snippet_is_escaped_and_highlighted(en):
    page = factories.article(
        en["reset"].get_parent().specific,
        title="Scripts",
        slug="scripts",
        body="Never paste `<script>` tags into the theme editor.",
    )
    hit = next(
        h
        for h in article_search(query="theme editor", locale=locale("en")).hits
        if h.article.pk == page.pk
    )
    assert "&lt;script&gt;" in hit.snippet
    assert "<script>" not in hit.snippet
    assert "<mark>theme</mark>" in hit.snippet


def test_publish_unpublish_and_delete_are_reflected_at_once(en):
    category = en["reset"].get_parent().specific
    page = factories.article(
        category, title="Gift cards", slug="gift-cards", body="Sell gift cards."
    )
    assert titles(article_search(query="gift cards", locale=locale("en"))) == [
        "Gift cards"
    ]
    page.unpublish()
    assert article_search(query="gift cards", locale=locale("en")).count == 0
    page.save_revision().publish()
    assert article_search(query="gift cards", locale=locale("en")).count == 1
    page.delete()
    assert article_search(query="gift cards", locale=locale("en")).count == 0


def test_drafts_never_reach_customers(en):
    page = en["refund"]
    page.title = "Secret draft title"
    page.save_revision()  # not published
    assert article_search(query="secret draft", locale=locale("en")).count == 0


def test_swedish_russian_indonesian_stemming(db):
    for code, title, body, query in [
        ("sv", "Återställ ditt lösenord", "Välj ett nytt lösenord.", "lösenordet"),
        ("ru", "Сброс пароля", "Выберите новый пароль.", "паролем"),
        ("id", "Pengaturan pembayaran", "Cara mengatur pembayaran.", "bayar"),
    ]:
        home = factories.help_center(code)
        page = factories.article(
            factories.category(home, slug=f"cat-{code}"),
            title=title,
            body=body,
            slug=f"a-{code}",
        )
        result = article_search(query=query, locale=locale(code), fallback=False)
        assert [h.article.pk for h in result.hits] == [page.pk], code


def test_two_character_chinese_query_finds_its_article(db):
    home = factories.help_center("zh-hant")
    page = factories.article(
        factories.category(home, slug="zh"),
        slug="zh-reset",
        title="重設密碼",
        body="如果您忘記了登入用的密碼，可以透過 email 重設。",
    )
    factories.article(
        page.get_parent().specific,
        slug="zh-other",
        title="訂單出貨",
        body="查詢包裹狀態。",
    )
    assert titles(
        article_search(query="密碼", locale=locale("zh-hant"), fallback=False)
    ) == ["重設密碼"]
    # Several bigrams are not ANDed: one matching word is enough.
    assert "重設密碼" in titles(
        article_search(
            query="忘記帳號密碼怎麼辦", locale=locale("zh-hant"), fallback=False
        )
    )
    assert titles(
        article_search(query="email", locale=locale("zh-hant"), fallback=False)
    ) == ["重設密碼"]


def test_no_match_in_a_locale_falls_back_to_english_labelled(en):
    factories.help_center("sv")
    result = article_search(query="invoice", locale=locale("sv"))
    assert result.fallback_locale == "en"
    assert titles(result) == ["Understand your invoice"]


def test_suggest_matches_title_prefixes(en):
    assert [a.title for a in article_suggest(prefix="ref", locale=locale("en"))] == [
        "Refund a customer order"
    ]
    assert [
        a.title for a in article_suggest(prefix="reset yo", locale=locale("en"))
    ] == ["Reset your password"]


@pytest.mark.parametrize(
    "query",
    ["", "   ", '"unbalanced', "-", "*", "AND", "x" * 501, "a\x00b", "-excluded"],
)
def test_malformed_queries_raise_a_clear_error(query):
    with pytest.raises(SearchQueryError):
        query_parse(query)


def test_lowercase_and_or_not_are_words_not_operators(en):
    factories.article(
        en["reset"].get_parent(),
        title="Why orders are not shipped",
        slug="orders-not-shipped",
        body="An order is not shipped until it is paid.",
    )

    assert query_parse("not").terms == ["not"]
    assert [h.title for h in article_search(query="not", locale=locale("en")).hits] == [
        "Why orders are not shipped"
    ]


def test_internal_articles_reach_agents_only_in_search_and_suggest(en):
    account = en["reset"].get_parent()
    factories.article(
        account,
        title="Reset a merchant password from the back office",
        slug="reset-merchant-password",
        audience="internal",
        body="Agents reset a merchant password from the back office.",
    )
    en_locale = locale("en")

    customer = article_search(query="reset password", locale=en_locale)
    agent = article_search(
        query="reset password", locale=en_locale, include_internal=True
    )

    assert titles(customer) == ["Reset your password"]
    assert customer.count == 1
    assert set(titles(agent)) == {
        "Reset a merchant password from the back office",
        "Reset your password",
    }
    assert agent.count == 2
    assert [a.title for a in article_suggest(prefix="reset", locale=en_locale)] == [
        "Reset your password"
    ]
    assert {
        a.title
        for a in article_suggest(
            prefix="reset", locale=en_locale, include_internal=True
        )
    } == {"Reset your password", "Reset a merchant password from the back office"}


def test_faq_whose_question_matches_ranks_above_a_guide_with_the_same_title(en):
    billing = en["refund"].get_parent()
    # The same title and body: only the FAQ's question lift can order them.
    body = "Shipping labels are printed from the order page."
    guide = factories.article(
        billing, title="Print a shipping label", slug="label-guide", body=body
    )
    faq = factories.article(
        billing,
        title="Print a shipping label",
        slug="label-faq",
        kind="faq",
        body=body,
    )

    result = article_search(query="print shipping label", locale=locale("en"))

    assert [h.article.pk for h in result.hits] == [faq.pk, guide.pk]
    assert result.hits[0].score > result.hits[1].score
