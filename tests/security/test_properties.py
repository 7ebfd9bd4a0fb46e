"""Property tests (Hypothesis) for the three parsers that read untrusted text.

- the Markdown pipeline never crashes and its output passes an allow-list check;
- the content-file parser never raises: every problem is a ContentError naming the
  file and line;
- the query parser returns a ParsedQuery or raises SearchQueryError, nothing else.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import html5lib
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from articles.content_files import ContentError, content_check_links, content_parse
from articles.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, markdown_render
from search.selectors import ParsedQuery, SearchQueryError, query_parse
from tests.security.audit import live_script, url_is_dangerous

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Pieces that make Markdown and HTML parsers take their odd paths.
MARKUP_PIECES = [
    "<",
    ">",
    "</",
    "/>",
    '"',
    "'",
    "`",
    "```",
    "~~~",
    "\n",
    "\n\n",
    "    ",
    "\t",
    "#",
    "## ",
    "* ",
    "1. ",
    "> ",
    "|",
    "|:--|",
    "---",
    "[",
    "]",
    "(",
    ")",
    "](",
    "![",
    "]: ",
    "*[",
    ": ",
    "&",
    "&#",
    "&#x",
    ";",
    "&lt;",
    "&colon;",
    "<script>",
    "</script>",
    "<img src=x ",
    " onerror=",
    " onclick=",
    "alert(1)",
    "javascript:",
    "java\tscript:",
    "jav&#x61;script:",
    "\u200b",
    "\x00",
    "\ufeff",
    "data:text/html,",
    "vbscript:",
    "<svg",
    "<math",
    "<a href=",
    "<style>",
    "style=",
    "expression(",
    "<iframe",
    "<!--",
    "-->",
    "<![CDATA[",
    "article:",
    "{{7*7}}",
    "<details",
    "<td",
    "<table>",
]
markup = st.lists(
    st.one_of(st.sampled_from(MARKUP_PIECES), st.text(max_size=8)), max_size=40
).map("".join)


def allow_list_violations(fragment: str) -> list[str]:
    """Tags or attributes outside articles.markdown's allow-list, or unsafe URLs."""
    root = html5lib.parseFragment(
        fragment, treebuilder="etree", namespaceHTMLElements=False
    )
    problems = []
    for element in root.iter():
        if not isinstance(element.tag, str) or element is root:
            continue
        if element.tag not in ALLOWED_TAGS:
            problems.append(f"tag <{element.tag}>")
            continue
        allowed = ALLOWED_ATTRIBUTES.get(element.tag, set()) | {"rel"}
        for name, value in element.attrib.items():
            if name not in allowed:
                problems.append(f"<{element.tag} {name}={value!r}>")
            elif name.startswith("on") or (
                name in {"href", "src"} and url_is_dangerous(value)
            ):
                problems.append(f"<{element.tag} {name}={value!r}>")
    return problems


@FAST
@given(text=st.one_of(markup, st.text()))
@example(text="<a href='jav&#x09;ascript:alert(1)'>x</a>")
@example(text="[x](javascript\u200b:alert(1))")
@example(text="<svg><animate attributeName=href values=javascript:alert(1)>")
def test_markdown_never_crashes_and_output_stays_in_the_allow_list(text):
    """Protects: the sanitiser as the last step of every rendering, for any input:
    no crash, no tag or attribute outside the allow-list, no script, no on* handler,
    no javascript:/data: URL; the plain text and TOC carry no markup."""
    rendered = markdown_render(text, resolve_article=lambda slug: f"/en/c/{slug}/")
    assert not allow_list_violations(rendered.html), rendered.html
    assert not live_script(rendered.html, fragment=True), rendered.html
    for token in rendered.toc_tokens:
        assert "<" not in token["id"] and '"' not in token["id"]


# --- content files -------------------------------------------------------------

front_value = st.one_of(
    st.text(max_size=40),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=10), max_size=4),
    st.dates(),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)
front_matter = st.dictionaries(
    st.sampled_from(
        ["title", "summary", "kind", "tags", "related", "last_reviewed", "order", "x"]
    ),
    front_value,
    max_size=7,
)
YAML_PIECES = ["---\n", "...\n", ": ", "- ", "[", "]", "{", "}", '"', "'", "\n", "  "]
raw_front = st.lists(
    st.one_of(st.sampled_from(YAML_PIECES), st.text(max_size=10)), max_size=25
).map("".join)


@st.composite
def content_file(draw) -> bytes:
    """A content file: well-formed YAML, broken YAML, or arbitrary bytes."""
    kind = draw(st.sampled_from(["dumped", "raw", "bytes"]))
    body = draw(st.one_of(markup, st.text(max_size=50)))
    if kind == "dumped":
        front = yaml.safe_dump(draw(front_matter), allow_unicode=True)
        return f"---\n{front}---\n{body}".encode()
    if kind == "raw":
        return f"---\n{draw(raw_front)}\n---\n{body}".encode("utf-8", "surrogatepass")
    return draw(st.binary(max_size=200))


FILE_NAMES = [
    "en/account/reset-password.md",
    "en/account/_category.md",
    "en/_index.md",
    "sv/konto/aterstall.md",
    "en/Bad Folder/x.md",
    "xx/account/a.md",
    "en/account/Not_A_Slug.md",
    "en/loose.md",
]


@FAST
@given(
    files=st.dictionaries(
        st.sampled_from(FILE_NAMES), content_file(), min_size=1, max_size=4
    )
)
def test_content_parser_reports_problems_as_content_errors_never_exceptions(files):
    """Protects: `import_content` on hostile or broken files: parsing never raises,
    and every problem is a ContentError with the file's path and a line number, so a
    writer is told where to look instead of getting a traceback."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, data in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.write_bytes(data)
            except UnicodeEncodeError:  # pragma: no cover - surrogates in a name
                continue
        content = content_parse(root)
        content_check_links(content, existing=set())
        for error in content.errors:
            assert isinstance(error, ContentError)
            assert error.path.is_relative_to(root), error
            assert isinstance(error.line, int) and error.line >= 1, error
            assert str(error).startswith(str(error.path)), error
        for article in content.articles.values():
            # A file with problems is still listed, but the import refuses the set.
            assert article.title or any(e.path == article.path for e in content.errors)
            assert all(isinstance(tag, str) for tag in article.tags)


@FAST
@given(title=st.text(max_size=300), summary=st.text(max_size=320))
def test_any_front_matter_title_is_read_back_or_reported(title, summary):
    """Protects: front-matter text (title, summary) arrives exactly as written, or
    is refused with the key's own line; never mangled, never a crash."""
    front = {"title": title, "summary": summary, "tags": ["a", "b"]}
    dumped = yaml.safe_dump(front, allow_unicode=True)
    # What YAML itself reads back (it folds line breaks such as U+0085 in scalars).
    expected = yaml.safe_load(dumped)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / "en" / "account" / "an-article.md"
        path.parent.mkdir(parents=True)
        path.write_text(
            f"---\n{dumped}---\nBody\n", encoding="utf-8", errors="surrogatepass"
        )
        content = content_parse(root)
    if content.errors:
        assert all(e.line >= 2 for e in content.errors), content.errors
        assert not expected["title"].strip() or any(
            "title" in e.message or "summary" in e.message for e in content.errors
        ), content.errors
        return
    article = content.articles[("en", "an-article")]
    assert article.title == expected["title"].strip()
    assert article.summary == expected["summary"].strip()


# --- search queries -----------------------------------------------------------

query_text = st.one_of(
    st.text(max_size=600),
    st.lists(
        st.sampled_from(
            ['"', "-", "+", "*", "AND", "OR", "NOT", "&&", "||", " ", '-"', "\x00"]
            + ["word", "pass", "<script>", "\u200b", "\t", "\n"]
        ),
        max_size=30,
    ).map("".join),
)


@FAST
@given(query=query_text)
@example(query='-"')
@example(query="\x00")
@example(query="a" * 501)
def test_query_parser_returns_a_parsed_query_or_a_search_query_error(query):
    """Protects: the search page and API against crashes on odd queries: anything
    typed either parses into words to look for, or is refused with a
    SearchQueryError (a 400 with a message), never another exception."""
    try:
        parsed = query_parse(query)
    except SearchQueryError as exc:
        assert str(exc) and exc.code
        return
    assert isinstance(parsed, ParsedQuery)
    assert parsed.terms or parsed.phrases
    assert all(term and not any(c.isspace() for c in term) for term in parsed.terms)
    assert "\x00" not in parsed.text
