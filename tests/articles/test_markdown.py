import pytest

from articles.markdown import (
    article_body_render,
    markdown_render,
    sanitize_html,
    url_is_safe,
)
from tests import factories


def test_tables_fenced_code_and_heading_anchors_render():
    text = "## Plans\n\n| Plan | Price |\n|:-----|------:|\n| Starter | 9 |\n\n```bash\ncurl -H 'a: b' https://x\n```\n"
    rendered = markdown_render(text)
    assert '<h2 id="plans">' in rendered.html
    assert '<a class="headerlink" href="#plans"' in rendered.html
    assert "<table>" in rendered.html
    assert '<td style="text-align:left">Starter</td>' in rendered.html
    assert "<code class=\"language-bash\">curl -H 'a: b' https://x" in rendered.html
    assert rendered.toc_tokens[0]["id"] == "plans"


XSS_CASES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript\u200b:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<div onclick="alert(1)">x</div>',
    "<svg onload=alert(1)>",
    '<object data="x.swf"></object>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<form action="https://evil.example"><input name=q></form>',
    "![x](javascript:alert(1))",
    '<a href="//evil.example/">x</a>',
]


@pytest.mark.parametrize("payload", XSS_CASES)
def test_dangerous_markup_never_survives_rendering(payload):
    html = markdown_render(payload).html.lower()
    for forbidden in (
        "<script",
        "<iframe",
        "<style",
        "<svg",
        "<object",
        "<form",
        "onerror",
        "onclick",
        "onload",
        "javascript",
        "data:",
        "//evil",
    ):
        assert forbidden not in html, (payload, html)


def test_safe_links_are_kept_and_marked_noopener():
    html = markdown_render(
        "[Docs](https://example.com/docs) and [mail](mailto:help@example.com) and [rel](/en/x/)"
    ).html
    assert 'href="https://example.com/docs"' in html
    assert 'href="mailto:help@example.com"' in html
    assert 'href="/en/x/"' in html
    assert 'rel="noopener noreferrer"' in html


@pytest.mark.parametrize(
    "url,safe",
    [
        ("https://a.example", True),
        ("/en/billing/", True),
        ("#steps", True),
        ("javascript:alert(1)", False),
        ("javascript\u200b:alert(1)", False),
        ("\u0000javascript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("vbscript:msgbox", False),
        ("data:text/html,x", False),
        ("//evil.example", False),
    ],
)
def test_url_is_safe(url, safe):
    assert url_is_safe(url) is safe


def test_sanitize_keeps_text_of_stripped_tags_escaped():
    assert sanitize_html("<b>bold</b><blink>x</blink>") == "<b>bold</b>x"


def test_article_links_resolve_in_the_same_locale(category):
    target = factories.article(
        category, title="Reset your password", slug="reset-your-password"
    )
    source = factories.article(
        category, slug="source", body="See [reset](article:reset-your-password#steps)."
    )
    html = article_body_render(article=source).html
    assert f'href="{target.url}#steps"' in html


def test_article_link_falls_back_to_english_when_not_translated(category):
    target = factories.article(category, slug="only-english")
    sv_home = factories.help_center("sv", title="Hjälpcenter")
    sv_category = factories.category(sv_home, slug="konto")
    sv_article = factories.article(
        sv_category, slug="svensk", body="Se [den](article:only-english)."
    )
    assert f'href="{target.url}"' in article_body_render(article=sv_article).html


def test_broken_article_link_is_reported_and_not_a_link(category):
    page = factories.article(
        category, slug="with-broken", body="See [gone](article:no-such-article)."
    )
    rendered = article_body_render(article=page)
    assert rendered.broken_links == ["no-such-article"]
    assert 'class="kb-broken-link"' in rendered.html
    assert "article:" not in rendered.html


def test_rendering_is_cached_per_revision(category, django_assert_num_queries):
    page = factories.article(
        category, slug="cached", body="Link to [x](article:cached)."
    )
    first = article_body_render(article=page)
    with django_assert_num_queries(0):
        assert article_body_render(article=page).html == first.html
    page.body = "Changed body."
    page.save_revision().publish()
    assert "Changed body." in article_body_render(article=page).html
