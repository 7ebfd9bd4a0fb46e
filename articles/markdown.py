"""The only path from Markdown to HTML: Python-Markdown, then an nh3 allow-list.

Article links (`[text](article:slug)`) are resolved here, at render time, to the
article with that slug in the same locale. Rendered output is cached per revision
(keyed by a hash of the revision's locale and body, plus a generation number that
moves whenever any article is published, unpublished, moved or deleted, so that
resolved links never go stale).
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import markdown
import nh3
from django.core.cache import cache
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor

ARTICLE_LINK_SCHEME = "article:"
SAFE_URL_SCHEMES = {"http", "https", "mailto", "tel"}

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "div": {"class"},
    "span": {"class"},
    "th": {"style", "colspan", "rowspan"},
    "td": {"style", "colspan", "rowspan"},
    "ol": {"start"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}

# Characters that browsers drop inside a URL scheme, used to disguise `javascript:`.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def url_is_safe(url: str) -> bool:
    """True for http(s)/mailto/tel URLs and plain relative links; false for anything
    that is, or could be read by a browser as, another scheme."""
    cleaned = "".join(
        ch for ch in url if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
    )
    cleaned = cleaned.lower()
    if cleaned != url.strip().lower():
        # Invisible or control characters inside a URL are never legitimate here.
        return False
    if cleaned.startswith("//"):
        return False
    match = _SCHEME_RE.match(cleaned)
    if match:
        return match.group(1) in SAFE_URL_SCHEMES
    # No scheme: a colon before the first path separator would still be read as one.
    head = re.split(r"[/?#]", cleaned, maxsplit=1)[0]
    return ":" not in head and "&" not in head


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in {"href", "src"}:
        return value if url_is_safe(value) else None
    if attribute == "class":
        # Only our own classes and Markdown's code-language classes survive.
        kept = [
            c
            for c in value.split()
            if c.startswith(("kb-", "language-", "headerlink", "toc"))
        ]
        return " ".join(kept) or None
    return value


def sanitize_html(html: str) -> str:
    """Clean HTML with an explicit allow-list; the last step before any page shows it."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=SAFE_URL_SCHEMES,
        attribute_filter=_attribute_filter,
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


@dataclass
class RenderedMarkdown:
    html: str
    text: str = ""
    toc_tokens: list[dict] = field(default_factory=list)
    article_links: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)


class _ArticleLinkProcessor(Treeprocessor):
    def __init__(
        self, md, resolve: Callable[[str], str | None], result: RenderedMarkdown
    ):
        super().__init__(md)
        self.resolve = resolve
        self.result = result

    def run(self, root: Element) -> None:
        for element in root.iter("a"):
            href = element.get("href", "")
            if not href.startswith(ARTICLE_LINK_SCHEME):
                continue
            slug, _, anchor = href[len(ARTICLE_LINK_SCHEME) :].partition("#")
            self.result.article_links.append(slug)
            url = self.resolve(slug)
            if url is None:
                self.result.broken_links.append(slug)
                element.attrib.pop("href")
                element.set("class", "kb-broken-link")
            else:
                element.set("href", f"{url}#{anchor}" if anchor else url)


class _ArticleLinkExtension(Extension):
    def __init__(self, resolve, result):
        super().__init__()
        self.resolve = resolve
        self.result = result

    def extendMarkdown(self, md):  # noqa: N802 (Python-Markdown's API)
        md.treeprocessors.register(
            _ArticleLinkProcessor(md, self.resolve, self.result), "kb_article_links", 1
        )


def markdown_render(
    text: str, *, resolve_article: Callable[[str], str | None] | None = None
) -> RenderedMarkdown:
    """Renders Markdown to sanitised HTML, resolving `article:` links with `resolve_article`."""
    result = RenderedMarkdown(html="")
    md = markdown.Markdown(
        extensions=[
            "tables",
            "fenced_code",
            "sane_lists",
            "def_list",
            "abbr",
            "toc",
            _ArticleLinkExtension(resolve_article or (lambda slug: None), result),
        ],
        extension_configs={
            "toc": {
                "permalink": "#",
                "permalink_class": "headerlink",
                "permalink_title": "Link to this section",
                "toc_depth": "2-3",
                "slugify": slugify_unicode,
            },
        },
        output_format="html",
    )
    # Raw HTML in Markdown is allowed by the syntax; the sanitiser below decides what survives.
    html = md.convert(text or "")
    result.html = sanitize_html(html)
    result.text = html_to_text(result.html)
    result.toc_tokens = _sanitize_toc(md.toc_tokens)
    return result


def _sanitize_toc(tokens: list[dict]) -> list[dict]:
    return [
        {
            "id": t["id"],
            "name": _strip_tags(t["name"]),
            "children": _sanitize_toc(t.get("children", [])),
        }
        for t in tokens
    ]


def _strip_tags(fragment: str) -> str:
    # toc names are HTML fragments; keep their text only (templates escape it again).
    return html.unescape(nh3.clean(fragment, tags=set()))


# The "#" permalink the table of contents adds after each heading.
_HEADERLINK_RE = re.compile(r'<a class="headerlink"[^>]*>[^<]*</a>')
_BLOCK_END_RE = re.compile(r"</(p|h[1-6]|li|tr|pre|blockquote|dd|dt|table)>", re.I)
_WHITESPACE_RE = re.compile(r"[ \t]+")


def html_to_text(fragment: str) -> str:
    """Plain text of sanitised HTML, one paragraph per line (for snippets and bots)."""
    text = _HEADERLINK_RE.sub("", fragment)
    text = _BLOCK_END_RE.sub(lambda m: m.group(0) + "\n", text)
    text = html.unescape(nh3.clean(text, tags=set()))
    lines = (_WHITESPACE_RE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


GENERATION_KEY = "kb:md:generation"


def markdown_cache_bump() -> None:
    """Invalidates every cached rendering (called when article URLs may have changed)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def article_body_render(*, article) -> RenderedMarkdown:
    """Renders an article's body for its locale, cached per revision."""
    from articles.selectors import article_url_resolver

    generation = cache.get_or_set(GENERATION_KEY, 1, None)
    digest = hashlib.sha256(f"{article.locale_id}\0{article.body}".encode()).hexdigest()
    key = f"kb:md:{generation}:{digest}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    rendered = markdown_render(
        article.body, resolve_article=article_url_resolver(locale=article.locale)
    )
    cache.set(key, rendered, 60 * 60 * 24 * 7)
    return rendered
