import pytest
from django.core.exceptions import ValidationError

from articles.models import ArticlePage, CategoryPage, HelpCenterPage
from tests import factories


@pytest.mark.django_db
def test_page_tree_allows_only_home_category_article_nesting(home, category):
    assert ArticlePage.can_exist_under(category)
    assert not ArticlePage.can_exist_under(home)
    assert CategoryPage.can_exist_under(home)
    assert not CategoryPage.can_exist_under(category)
    assert HelpCenterPage.can_exist_under(home.get_parent())


@pytest.mark.django_db
def test_summary_longer_than_300_characters_is_rejected(category):
    page = factories.article(category, slug="long")
    page.summary = "x" * 301
    with pytest.raises(ValidationError) as excinfo:
        page.full_clean()
    assert "summary" in excinfo.value.message_dict


@pytest.mark.django_db
def test_each_locale_has_its_own_home_linked_as_a_translation():
    en = factories.help_center("en")
    sv = factories.help_center("sv", title="Hjälpcenter")
    assert sv.translation_key == en.translation_key
    assert sv.get_url() == "/sv/"
    assert en.get_url() == "/en/"


@pytest.mark.django_db
def test_article_url_is_prefixed_with_its_locale(category):
    page = factories.article(category, slug="reset-your-password")
    assert page.url == "/en/account-and-sign-in/reset-your-password/"


def test_publishing_keeps_the_bodys_plain_text_for_snippets_and_answers(category):
    article = factories.article(
        category,
        title="Refunds",
        slug="refunds",
        body="## Refund an order\n\nOpen **Orders** and choose [Refund](https://example.com).",
    )
    assert ArticlePage.objects.get(pk=article.pk).body_text == (
        "Refund an order\nOpen Orders and choose Refund."
    )

    article.body = "Refunds take *five* days."
    article.save_revision().publish()

    stored = ArticlePage.objects.get(pk=article.pk)
    assert stored.body_text == "Refunds take five days."
    assert stored.body_plain() == "Refunds take five days."
