"""Admin, Settings > API keys: list, create (raw key once), revoke; last used."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from feedback.models import ApiKey
from feedback.services import api_key_authenticate, api_key_create

INDEX = "/admin/feedback/api-keys/"
NEW = "/admin/feedback/api-keys/new/"


@pytest.fixture
def admin_client(client, db):
    user = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def editor_client(client, db):
    user = User.objects.create_user("editor", "editor@example.com", "pw")
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_list_shows_each_key_escaped_with_its_state(admin_client):
    key, _raw = api_key_create(name="<b>Shop</b> widget", scope="widget")
    api_key_create(name="Helpdesk", scope="helpdesk")
    html = admin_client.get(INDEX).content.decode()
    assert "&lt;b&gt;Shop&lt;/b&gt; widget" in html and "<b>Shop</b>" not in html
    assert f"kb_{key.prefix}_" in html and "Helpdesk" in html
    assert "Never" in html
    assert f"/admin/feedback/api-keys/{key.pk}/revoke/" in html


@pytest.mark.django_db
def test_the_settings_menu_links_to_api_keys(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert INDEX in html


@pytest.mark.django_db
def test_creating_a_key_shows_the_raw_key_once_and_it_works(admin_client):
    response = admin_client.post(
        NEW,
        {
            "name": "Shop",
            "scope": "widget",
            "allowed_origins": "https://shop.example.com\n\nhttps://www.example.com/",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    raw = re.search(r'value="(kb_[^"]+)"', html).group(1)
    key = ApiKey.objects.get()
    assert (key.name, key.scope) == ("Shop", "widget")
    assert key.allowed_origins == [
        "https://shop.example.com",
        "https://www.example.com",
    ]
    assert raw not in key.key_hash
    assert api_key_authenticate(raw_key=raw) == key
    assert raw not in admin_client.get(INDEX).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"name": "Bot", "scope": "bot", "allowed_origins": "https://a.example"},
            "allowed_origins",
        ),
        (
            {"name": "W", "scope": "widget", "allowed_origins": "javascript:x"},
            "allowed_origins",
        ),
        ({"name": "", "scope": "bot"}, "name"),
        ({"name": "X", "scope": "root"}, "scope"),
    ],
)
def test_invalid_keys_are_refused_with_the_form_again(admin_client, data, field):
    response = admin_client.post(NEW, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert 'value="kb_' not in response.content.decode()
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_revoking_asks_first_then_refuses_the_key(admin_client):
    key, raw = api_key_create(name="Old bot", scope="bot")
    url = f"/admin/feedback/api-keys/{key.pk}/revoke/"
    confirm = admin_client.get(url).content.decode()
    assert "Yes, revoke it" in confirm and "csrfmiddlewaretoken" in confirm
    key.refresh_from_db()
    assert key.revoked_at is None
    response = admin_client.post(url)
    assert response.status_code == 302 and response["Location"] == INDEX
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_key_authenticate(raw_key=raw) is None


@pytest.mark.django_db
def test_revoking_needs_a_csrf_token(db):
    from django.test import Client

    key, _raw = api_key_create(name="Bot", scope="bot")
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("a", "a@example.com", "pw"))
    response = client.post(f"/admin/feedback/api-keys/{key.pk}/revoke/")
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.django_db
def test_editors_without_the_permission_cannot_manage_keys(editor_client):
    api_key_create(name="Bot", scope="bot")
    assert editor_client.get(INDEX).status_code in (302, 403)
    assert editor_client.post(NEW, {"name": "X", "scope": "bot"}).status_code in (
        302,
        403,
    )
    assert ApiKey.objects.count() == 1
    assert INDEX not in editor_client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_the_add_apikey_permission_is_enough(editor_client):
    editor = User.objects.get(username="editor")
    editor.user_permissions.add(Permission.objects.get(codename="add_apikey"))
    assert editor_client.get(INDEX).status_code == 200


@pytest.mark.django_db
def test_last_use_is_noted_at_most_once_a_minute():
    key, raw = api_key_create(name="Bot", scope="bot")
    api_key_authenticate(raw_key=raw)
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    api_key_authenticate(raw_key=raw)
    key.refresh_from_db()
    assert key.last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    api_key_authenticate(raw_key=raw)
    key.refresh_from_db()
    assert key.last_used_at > first - timedelta(seconds=1)
    assert timezone.now() - key.last_used_at < timedelta(minutes=1)
