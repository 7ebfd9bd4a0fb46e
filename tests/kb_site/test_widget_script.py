"""The widget script's budget and the demo page that embeds it."""

import gzip
import re

from django.conf import settings

from kb_site.env import BASE_DIR

WIDGET = BASE_DIR / "kb_site" / "static" / "kb" / "widget.js"


def test_widget_script_stays_within_15_kb_gzipped():
    assert len(gzip.compress(WIDGET.read_bytes(), compresslevel=9)) <= 15 * 1024


def test_widget_script_has_its_words_in_every_site_locale():
    source = WIDGET.read_text()
    for code, _name in settings.KB_LOCALES:
        assert re.search(rf'^\s*"?{re.escape(code)}"?: \[', source, re.MULTILINE), code


def test_demo_page_without_a_key_says_how_to_make_one(client, settings, tmp_path):
    settings.KB_DEMO_WIDGET_KEY = ""
    settings.KB_DEMO_WIDGET_KEY_FILE = tmp_path / "missing"
    html = client.get("/widget-demo/").content.decode()
    assert "create_api_key" in html
    assert 'data-site-key=""' in html


def test_demo_page_embeds_the_widget_without_inline_script(client, settings):
    settings.KB_DEMO_WIDGET_KEY = "kb_demo_key"
    response = client.get("/widget-demo/", {"locale": "ru"})
    html = response.content.decode()
    assert '<html lang="ru">' in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == [
        '<script src="/static/kb/widget.js" data-site-key="kb_demo_key" async>'
    ]
    assert not re.search(r"<[^>]*\son[a-z]+=", html)  # no inline event handlers


def test_demo_page_ignores_an_unknown_locale(client, settings):
    settings.KB_DEMO_WIDGET_KEY = "kb_demo_key"
    html = client.get("/widget-demo/", {"locale": '"><b>x'}).content.decode()
    assert '<html lang="en">' in html
