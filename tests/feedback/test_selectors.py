import pytest

from feedback.selectors import VoteTally, article_vote_summary, user_agent_is_bot
from feedback.services import vote_record
from tests import factories


def test_wilson_lower_bound_rewards_more_evidence():
    assert VoteTally(up=0, down=0).wilson_lower is None
    assert VoteTally(up=1, down=0).wilson_lower == pytest.approx(0.2065, abs=1e-4)
    assert VoteTally(up=90, down=10).wilson_lower == pytest.approx(0.8256, abs=1e-4)
    assert VoteTally(up=9, down=1).wilson_lower < VoteTally(up=90, down=10).wilson_lower


@pytest.mark.django_db
def test_vote_summary_counts_the_current_revision_apart(category):
    article = factories.article(category, slug="a")
    vote_record(article=article, helpful=True, visitor_id="visitor-aaaaaaaaaaaa")
    vote_record(article=article, helpful=False, visitor_id="visitor-bbbbbbbbbbbb")
    article.body = "Rewritten."
    article.save_revision().publish()
    article.refresh_from_db()
    vote_record(article=article, helpful=True, visitor_id="visitor-cccccccccccc")
    summary = article_vote_summary(article=article)
    assert (summary.overall.up, summary.overall.down) == (2, 1)
    assert (summary.current_revision.up, summary.current_revision.down) == (1, 0)
    assert summary.overall.helpful_share == pytest.approx(2 / 3)


def test_browsers_are_not_bots_but_crawlers_and_scripts_are():
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    assert not user_agent_is_bot(user_agent=firefox)
    for agent in ["Googlebot/2.1", "python-requests/2.32", "Wget/1.21", "", "  "]:
        assert user_agent_is_bot(user_agent=agent)
