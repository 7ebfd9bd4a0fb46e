"""answer_best: the bot's answer on a real Whoosh index and the real database."""

import pytest
from wagtail.models import Locale

from search.answer import (
    PASSAGE_MAX_CHARS,
    AnswerFeatures,
    confidence_from_features,
    passage_cut,
)
from search.selectors import SearchQueryError, answer_best
from tests import factories

PASSWORD_GUIDE = """\
Kestrel keeps your account safe with a password and, if you like, a second step.

## Change your password

Open **Settings > Security**, type your current password, then the new one twice.

## Reset a forgotten password

On the sign-in page, select *Forgot password*. We email you a reset link that works
for one hour; open it and choose a new password.

## Two-factor authentication

Turn on two-factor authentication to be asked for a code from your phone.
"""


@pytest.fixture
def en(db):
    home = factories.help_center("en")
    account = factories.category(home, title="Account", slug="account")
    billing = factories.category(home, title="Billing", slug="billing")
    return {
        "account": account,
        "guide": factories.article(
            account,
            title="Passwords and account security",
            slug="passwords",
            summary="Change, reset and protect your password.",
            body=PASSWORD_GUIDE,
        ),
        "faq": factories.article(
            billing,
            title="How long does a refund take?",
            slug="refund-time",
            kind="faq",
            summary="Refund timing.",
            body="Refunds reach the customer's card in 5 to 10 business days.\n\n"
            "## Why it can take longer\n\nSome banks hold refunds for a week.",
        ),
        "invoice": factories.article(
            billing,
            title="Understand your invoice",
            slug="invoice",
            summary="Each line of your monthly bill.",
            body="Your invoice lists plan fees, app fees and refunds.",
        ),
    }


def en_locale():
    return Locale.objects.get(language_code="en")


def test_answer_cites_the_article_and_quotes_the_matching_paragraph(en):
    answer = answer_best(query="I forgot my password, reset link", locale=en_locale())

    guide = en["guide"]
    guide.refresh_from_db()
    assert answer.article.id == guide.pk
    assert answer.article.title == "Passwords and account security"
    assert answer.article.url == guide.url
    assert answer.article.revision_id == guide.live_revision_id is not None
    assert answer.passage.startswith("On the sign-in page, select Forgot password.")
    assert "reset link" in answer.passage
    assert "*" not in answer.passage and "<" not in answer.passage
    assert 0.0 <= answer.confidence <= 1.0
    assert guide.pk not in [alt.id for alt in answer.alternatives]


def test_faq_answer_is_the_answer_under_its_question(en):
    answer = answer_best(query="how long will my refund take", locale=en_locale())

    assert answer.article.id == en["faq"].pk
    assert answer.passage.startswith(
        "Refunds reach the customer's card in 5 to 10 business days."
    )
    assert [alt.id for alt in answer.alternatives] == [en["invoice"].pk]
    assert 0.0 <= answer.alternatives[0].confidence < answer.confidence


def test_answer_quotes_the_live_revision_not_a_later_draft(en):
    faq = en["faq"]
    faq.refresh_from_db()
    live_revision = faq.live_revision_id
    assert live_revision is not None
    faq.body = "Draft: refunds are instant now."
    faq.save_revision()  # a draft, not published

    answer = answer_best(query="how long does a refund take", locale=en_locale())

    assert answer.article.revision_id == live_revision
    assert "Draft" not in answer.passage
    assert answer.passage.startswith("Refunds reach")


def test_nothing_found_is_handed_off_with_no_article(en):
    answer = answer_best(query="quantum entanglement", locale=en_locale())

    assert answer.article is None
    assert answer.passage == ""
    assert answer.confidence == 0.0
    assert answer.handoff is True
    assert answer.alternatives == []


def test_a_precise_question_is_more_confident_than_a_vague_one(en):
    precise = answer_best(query="how long does a refund take", locale=en_locale())
    vague = answer_best(query="refunds", locale=en_locale())

    assert precise.confidence > vague.confidence


def test_handoff_follows_the_threshold_setting(en, settings):
    query = "how long does a refund take"
    settings.KB_ANSWER_HANDOFF_BELOW = 0.0
    confidence = answer_best(query=query, locale=en_locale()).confidence
    assert answer_best(query=query, locale=en_locale()).handoff is False

    settings.KB_ANSWER_HANDOFF_BELOW = confidence + 0.0001
    assert answer_best(query=query, locale=en_locale()).handoff is True


def test_internal_articles_answer_agents_only(en):
    factories.article(
        en["account"],
        title="Unlock a merchant account (agents)",
        slug="unlock-merchant",
        audience="internal",
        body="Use the back office to unlock a merchant account after a fraud hold.",
    )

    customer = answer_best(query="unlock merchant fraud hold", locale=en_locale())
    agent = answer_best(
        query="unlock merchant fraud hold", locale=en_locale(), include_internal=True
    )

    assert customer.article is None or customer.article.title != (
        "Unlock a merchant account (agents)"
    )
    assert "Unlock a merchant account (agents)" not in [
        alt.title for alt in customer.alternatives
    ]
    assert agent.article.title == "Unlock a merchant account (agents)"
    assert agent.passage.startswith("Use the back office")


def test_a_malformed_question_raises_a_clear_error(en):
    with pytest.raises(SearchQueryError):
        answer_best(query='"unbalanced', locale=en_locale())


def test_passage_is_cut_at_a_sentence_end_within_the_limit():
    sentence = "Refunds take five to ten business days to reach the card. "
    text = sentence * 20

    passage = passage_cut(text)

    assert len(passage) <= PASSAGE_MAX_CHARS
    assert passage.endswith("card.")
    assert not passage.endswith("…")


def test_passage_without_a_sentence_end_is_cut_at_a_word_with_an_ellipsis():
    text = "word " * 200

    passage = passage_cut(text)

    assert len(passage) <= PASSAGE_MAX_CHARS
    assert passage.endswith("word…")


def test_a_short_passage_is_not_cut():
    assert passage_cut("Yes. One login can own several stores.") == (
        "Yes. One login can own several stores."
    )


def test_confidence_is_a_probability_that_grows_with_the_evidence():
    weak = AnswerFeatures(lead=0.0, coverage=0.3, title_coverage=0.0, title_back=0.0)
    strong = AnswerFeatures(lead=0.6, coverage=1.0, title_coverage=1.0, title_back=1.0)
    fuzzy = AnswerFeatures(
        lead=0.6, coverage=1.0, title_coverage=1.0, title_back=1.0, fuzzy=True
    )

    values = [confidence_from_features(f) for f in (weak, strong, fuzzy)]

    assert all(0.0 <= v <= 1.0 for v in values)
    assert values[0] < values[2] < values[1]
