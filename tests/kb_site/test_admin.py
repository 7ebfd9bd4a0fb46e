import pytest
from django.contrib.auth.models import Group, User
from wagtail.models import WorkflowState

from articles.models import ArticlePage
from tests import factories


@pytest.fixture
def editor(db):
    user = User.objects.create_user("editor", "editor@example.com", "pw")
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.mark.django_db
def test_admin_requires_login(client, home):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_admin_pages_load_for_an_editor(editor_client, category):
    page = factories.article(category, slug="edit-me", body="## Hello\n\nWorld")
    for url in (
        "/admin/",
        f"/admin/pages/{category.pk}/",
        f"/admin/pages/{page.pk}/edit/",
        f"/admin/pages/{page.pk}/history/",
        f"/admin/pages/add/articles/articlepage/{category.pk}/",
        f"/admin/pages/{page.pk}/edit/preview/",
    ):
        response = editor_client.get(url)
        assert response.status_code == 200, url
    assert (
        "kb-markdown-editor"
        in editor_client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    )


@pytest.mark.django_db
def test_editor_submits_for_review_and_cannot_publish(editor_client, category):
    data = {
        "title": "New article",
        "slug": "new-article",
        "summary": "Short.",
        "kind": "faq",
        "audience": "public",
        "body": "Body",
        "tags": "",
        "last_reviewed": "",
        "action-submit": "Submit for moderation",
    }
    response = editor_client.post(
        f"/admin/pages/add/articles/articlepage/{category.pk}/", data
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = ArticlePage.objects.get(slug="new-article")
    assert not page.live
    assert WorkflowState.objects.filter(
        object_id=str(page.pk), status="in_progress"
    ).exists()

    # Trying to publish directly is refused.
    data.pop("action-submit")
    data["action-publish"] = "Publish"
    editor_client.post(f"/admin/pages/{page.pk}/edit/", data)
    page.refresh_from_db()
    assert not page.live


@pytest.mark.django_db
def test_broken_article_link_is_reported_to_the_writer_in_the_admin(
    editor_client, category
):
    factories.article(category, slug="exists")
    data = {
        "title": "Links",
        "slug": "links",
        "summary": "",
        "kind": "guide",
        "audience": "public",
        "tags": "",
        "last_reviewed": "",
        "body": "See [ok](article:exists) and [gone](article:no-such-article).",
        "action-submit": "Submit",
    }
    response = editor_client.post(
        f"/admin/pages/add/articles/articlepage/{category.pk}/", data
    )
    assert response.status_code == 200
    assert "article:no-such-article" in response.content.decode()
    assert (
        "article:exists"
        not in response.content.decode().split("point to no published article")[1][:200]
    )
    assert not ArticlePage.objects.filter(slug="links").exists()
