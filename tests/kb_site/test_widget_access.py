"""Widget keys are public, so the API checks the page's Origin; CORS follows suit."""

import io
import uuid

import pytest
from django.core.management import CommandError, call_command

from feedback.models import ApiKey, Event
from feedback.services import api_key_create
from tests import factories

SHOP = "https://shop.example.com"
EVIL = "https://evil.example.net"


@pytest.fixture
def article(category):
    return factories.article(category, title="Reset your password", slug="reset")


@pytest.fixture
def shop_key(db):
    return api_key_create(name="Shop", scope="widget", allowed_origins=[SHOP])[1]


def post_event(client, article, key, origin=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if origin:
        headers["HTTP_ORIGIN"] = origin
    body = {
        "events": [
            {
                "id": str(uuid.uuid4()),
                "type": "view",
                "journey_id": "j-widget",
                "article_id": article.pk,
            }
        ]
    }
    return client.post(
        "/api/v1/events", body, content_type="application/json", **headers
    )


def test_widget_key_works_from_its_allowed_origin(client, article, shop_key):
    response = post_event(client, article, shop_key, origin=SHOP)
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert Event.objects.get().channel == "widget"


def test_widget_key_from_another_origin_gets_a_403_and_nothing_is_stored(
    client, article, shop_key
):
    response = post_event(client, article, shop_key, origin=EVIL)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert not Event.objects.exists()


def test_origins_are_compared_without_case_or_trailing_slash(client, article, db):
    raw_key = api_key_create(
        name="Shop", scope="widget", allowed_origins=["HTTPS://Shop.Example.com/"]
    )[1]
    assert ApiKey.objects.get().allowed_origins == [SHOP]
    assert post_event(client, article, raw_key, origin=SHOP).status_code == 200


def test_site_wide_widget_origins_setting_allows_any_widget_key(
    client, article, settings, db
):
    raw_key = api_key_create(name="No origins", scope="widget")[1]
    assert post_event(client, article, raw_key, origin=SHOP).status_code == 403
    settings.KB_WIDGET_ORIGINS = [SHOP]
    assert post_event(client, article, raw_key, origin=SHOP).status_code == 200


def test_the_help_center_itself_may_use_a_widget_key(client, article, shop_key):
    # /widget-demo/ on the help center's own origin (the test client's host).
    response = post_event(client, article, shop_key, origin="http://testserver")
    assert response.status_code == 200


def test_secret_keys_are_not_origin_checked(client, article, db):
    raw_key = api_key_create(name="Bot", scope="bot")[1]
    assert post_event(client, article, raw_key, origin=EVIL).status_code == 200


def test_preflight_from_an_allowed_origin_allows_authorization(client, shop_key):
    response = client.options(
        "/api/v1/events",
        HTTP_ORIGIN=SHOP,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_preflight_from_an_unknown_origin_is_not_allowed(client, shop_key):
    response = client.options(
        "/api/v1/events",
        HTTP_ORIGIN=EVIL,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in response


def test_public_search_answers_cross_origin_only_to_allowed_origins(
    client, article, shop_key
):
    allowed = client.get("/api/v1/suggest", {"q": "res"}, HTTP_ORIGIN=SHOP)
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == SHOP
    other = client.get("/api/v1/suggest", {"q": "res"}, HTTP_ORIGIN=EVIL)
    assert "Access-Control-Allow-Origin" not in other


def test_a_revoked_keys_origins_no_longer_get_cors(client, shop_key):
    from django.utils import timezone

    ApiKey.objects.update(revoked_at=timezone.now())
    response = client.get("/api/v1/suggest", {"q": "x"}, HTTP_ORIGIN=SHOP)
    assert "Access-Control-Allow-Origin" not in response


def test_cors_is_limited_to_the_api(client, home, settings):
    settings.KB_WIDGET_ORIGINS = settings.CORS_ALLOWED_ORIGINS = [SHOP]
    response = client.get("/healthz", HTTP_ORIGIN=SHOP)
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_create_api_key_stores_repeated_origins():
    out = io.StringIO()
    call_command(
        "create_api_key",
        "Shop",
        "--scope",
        "widget",
        "--origin",
        SHOP,
        "--origin",
        "http://localhost:8000",
        stdout=out,
        stderr=io.StringIO(),
    )
    key = ApiKey.objects.get()
    assert key.allowed_origins == [SHOP, "http://localhost:8000"]
    assert out.getvalue().strip().startswith(f"kb_{key.prefix}_")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scope", "origin"), [("widget", "shop.example.com/path"), ("bot", SHOP)]
)
def test_create_api_key_refuses_bad_origins(scope, origin):
    with pytest.raises(CommandError):
        call_command(
            "create_api_key",
            "X",
            "--scope",
            scope,
            "--origin",
            origin,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_demo_key_is_saved_for_the_demo_page_and_reused(client, settings, tmp_path):
    settings.KB_DEMO_WIDGET_KEY = ""
    settings.KB_DEMO_WIDGET_KEY_FILE = tmp_path / "widget-demo-key"
    args = ["create_api_key", "Widget demo", "--scope", "widget", "--demo"]
    call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert ApiKey.objects.count() == 1
    raw_key = settings.KB_DEMO_WIDGET_KEY_FILE.read_text().strip()
    html = client.get("/widget-demo/").content.decode()
    assert f'data-site-key="{raw_key}"' in html
    assert '/static/kb/widget.js"' in html
    ApiKey.objects.update(revoked_at="2020-01-01T00:00Z")
    call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1
    assert settings.KB_DEMO_WIDGET_KEY_FILE.read_text().strip() != raw_key
