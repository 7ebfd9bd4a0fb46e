"""Inline helpfulness voting on article pages (feedback/static/feedback/vote.js)."""

import pytest

from articles.models import ArticlePage
from feedback.models import Vote

# Each test imports content on a live server; the serialized rollback brings back
# what migrations created (the root page, the default locale) after the flush.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_clicking_yes_stores_a_vote_without_reloading_the_page(page, help_center_live):
    article = ArticlePage.objects.live().get(
        slug="reset-your-password", locale__language_code="en"
    )
    page.goto(help_center_live.url + article.url)
    page.evaluate("window.kbNotReloaded = true")
    vote = page.locator("#helpfulness")
    vote.get_by_role("button", name="Yes").click()
    vote.get_by_text("You found this article helpful.").wait_for()
    assert page.evaluate("window.kbNotReloaded") is True
    stored = Vote.objects.get(article=article)
    assert stored.helpful is True

    # The follow-up survey arrived inline too, and changing the vote doesn't double it.
    vote.get_by_role("button", name="Change to No").click()
    vote.get_by_text("You found this article not helpful.").wait_for()
    assert page.evaluate("window.kbNotReloaded") is True
    assert Vote.objects.get(article=article).helpful is False
