"""Signal receivers: they only invalidate caches."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from wagtail.search import index
from wagtail.signals import page_published, page_unpublished, post_page_move

from articles.markdown import markdown_cache_bump
from articles.models import ArticlePage


@receiver(page_published, dispatch_uid="articles_md_cache_on_publish")
@receiver(page_unpublished, dispatch_uid="articles_md_cache_on_unpublish")
@receiver(post_page_move, dispatch_uid="articles_md_cache_on_move")
def markdown_cache_invalidate(sender, **kwargs):
    """Drops cached renderings when article URLs may have changed (links resolve to URLs)."""
    transaction.on_commit(markdown_cache_bump)


@receiver(post_delete, sender=ArticlePage, dispatch_uid="articles_md_cache_on_delete")
def markdown_cache_invalidate_on_delete(sender, **kwargs):
    """Drops cached renderings when an article is deleted."""
    transaction.on_commit(markdown_cache_bump)


@receiver(
    page_published, sender=ArticlePage, dispatch_uid="articles_reindex_after_publish"
)
def article_reindex_after_publish(sender, instance, **kwargs):
    """Reindexes a published article once its tags are saved.

    Wagtail indexes on post_save, which modelcluster fires before it writes child
    relations such as tags, so a new tag would reach the index only on the next save
    (Wagtail fixed the same for images and documents, wagtail#613). This goes through
    Wagtail's own indexing function, not a second path.
    """
    index.insert_or_update_object(instance)
