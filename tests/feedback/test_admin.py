import pytest
from django.contrib.auth.models import Group, User

from feedback.services import vote_record
from tests import factories


@pytest.fixture
def editor_client(client, db):
    user = User.objects.create_user("editor", "editor@example.com", "pw")
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_vote_comments_are_listed_for_writers_as_escaped_text(editor_client, category):
    article = factories.article(category, title="Reset your password", slug="reset")
    vote_record(
        article=article,
        helpful=False,
        visitor_id="visitor-aaaaaaaaaaaa",
        reason="outdated",
        comment='<img src=x onerror="alert(1)">\nStep 2',
    )
    html = editor_client.get("/admin/feedback/comments/").content.decode()
    assert "Reset your password" in html and "It is out of date" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;<br>Step 2" in html


@pytest.mark.django_db
def test_vote_comments_need_admin_access(client, db):
    response = client.get("/admin/feedback/comments/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
