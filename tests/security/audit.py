"""Finds live script in HTML the way a browser would parse it (html5lib, WHATWG rules).

A naive substring check both misses real injections (`<img src=x onerror=…>` with
odd spacing or entities) and flags harmless escaped text (`&lt;script&gt;`); parsing
the page as a browser does and looking at the resulting elements and attributes
does neither.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element

import html5lib

PAYLOAD_FILE = Path(__file__).with_name("xss_payloads.txt")

# Attributes a browser resolves as a URL (or animates into one).
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "lowsrc",
    "dynsrc",
    "codebase",
    "cite",
    "longdesc",
    "usemap",
    "srcset",
    "xlink:href",
    "to",
    "from",
    "values",
    "by",
}
# Elements that run or load active content, or change how every URL resolves.
ACTIVE_ELEMENTS = {
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "meta",
    "style",
    "link",
    "form",
    "isindex",
    "import",
    "xml",
}
# Executable script types (an absent type is JavaScript too).
SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}
_DANGEROUS_SCHEME_RE = re.compile(r"^(javascript|vbscript|livescript|data):", re.I)
_DANGEROUS_CSS_RE = re.compile(
    r"expression\s*\(|javascript:|vbscript:|behavior\s*:|-moz-binding|@import|url\s*\("
    # An invisible overlay over the page (clickjacking from inside).
    r"|position\s*:\s*(fixed|absolute)"
    # Comments and escapes hide the words above from a filter, not from old browsers.
    r"|/\*|\\",
    re.I,
)
# What a browser strips from a URL before reading its scheme.
_URL_IGNORED_RE = re.compile(
    r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\ufeff]"
)


def payloads(*, storable: bool = False) -> list[str]:
    """The XSS corpus, one payload per line (split on \\n only: some payloads hold
    other line-breaking characters). `storable` drops NUL-bearing payloads, which
    PostgreSQL cannot store and every form refuses before they reach the database."""
    lines = PAYLOAD_FILE.read_text(encoding="utf-8").split("\n")
    items = [line for line in lines if line.strip()]
    if storable:
        items = [p for p in items if "\x00" not in p]
    return items


def sample(items: list[str], every: int) -> list[str]:
    """A deterministic spread over the corpus (for inputs too slow to take it all)."""
    return items[::every]


@dataclass(frozen=True)
class Finding:
    element: str
    problem: str

    def __str__(self) -> str:
        return f"<{self.element}> {self.problem}"


def _local(name: str) -> str:
    # html5lib names foreign elements/attributes "{namespace}local".
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return f"xlink:{local}" if namespace.endswith("xlink") else local
    return name


def url_is_dangerous(value: str) -> bool:
    """True when a browser would read this URL as script or an inline document."""
    return bool(_DANGEROUS_SCHEME_RE.match(_URL_IGNORED_RE.sub("", value)))


def _element_findings(
    element: Element, *, static_url: str, allowed_active: set[str]
) -> Iterable[Finding]:
    tag = _local(element.tag).lower()
    attributes = {_local(k).lower(): v for k, v in element.attrib.items()}
    if tag == "script":
        src = attributes.get("src")
        kind = attributes.get("type", "").strip().lower()
        if src is None and kind in SCRIPT_TYPES and (element.text or "").strip():
            yield Finding(tag, f"inline script: {(element.text or '')[:80]!r}")
        elif src is not None and not src.startswith(static_url):
            yield Finding(tag, f"script from {src!r}")
        elif src is None and kind not in SCRIPT_TYPES:
            # A data block (e.g. json_script) must still be valid JSON, not markup.
            try:
                json.loads(element.text or "null")
            except ValueError:
                yield Finding(tag, f"non-JSON data block of type {kind!r}")
    if tag in ACTIVE_ELEMENTS and tag not in allowed_active:
        yield Finding(tag, f"active element {attributes!r}")
    for name, value in attributes.items():
        if name.startswith("on"):
            yield Finding(tag, f"event handler {name}={value!r}")
        elif name in URL_ATTRIBUTES and url_is_dangerous(value):
            yield Finding(tag, f"{name}={value!r}")
        elif name == "srcdoc":
            yield Finding(tag, f"srcdoc={value!r}")
        elif name == "style" and _DANGEROUS_CSS_RE.search(value):
            yield Finding(tag, f"style={value!r}")
        elif name == "attributename" and value.lower().startswith(("on", "href")):
            yield Finding(tag, f"animates {value!r}")


def live_script(
    html: str,
    *,
    fragment: bool = False,
    within: str | None = None,
    static_url: str = "/static/",
    allowed_active: Iterable[str] = ("link", "meta", "form"),
) -> list[Finding]:
    """Everything in `html` that a browser would run or that could load script.

    `within` limits the audit to the subtree of the first element having that class
    (for admin pages, whose own scaffolding carries inline script by design).
    Pages legitimately have <link rel=stylesheet>, <meta> and <form>; those are
    checked separately by `active_link_meta_form`.
    """
    parse = html5lib.parseFragment if fragment else html5lib.parse
    root = parse(html, treebuilder="etree", namespaceHTMLElements=False)
    if within is not None:
        for element in root.iter():
            if within in (element.get("class") or "").split():
                root = element
                break
        else:
            raise AssertionError(f"no element with class {within!r} in the page")
    allowed = set(allowed_active)
    findings = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments
        findings.extend(
            _element_findings(element, static_url=static_url, allowed_active=allowed)
        )
        tag = _local(element.tag).lower()
        if tag in allowed and tag in ACTIVE_ELEMENTS:
            findings.extend(_link_meta_form(element))
    return findings


def _link_meta_form(element: Element) -> Iterable[Finding]:
    """<link>, <meta> and <form> are fine in the page's own head and forms, but not
    pointing at script, refreshing to another URL, or posting off-site."""
    tag = _local(element.tag).lower()
    attributes = {_local(k).lower(): v for k, v in element.attrib.items()}
    if tag == "meta":
        equiv = attributes.get("http-equiv", "").lower()
        if equiv in {"refresh", "link", "set-cookie"}:
            yield Finding(tag, f"http-equiv {attributes!r}")
    elif tag == "link":
        href = attributes.get("href", "")
        if attributes.get("rel", "").lower() in {"stylesheet", "import", "preload"}:
            if not href.startswith("/"):
                yield Finding(tag, f"{attributes.get('rel')} from {href!r}")
    elif tag == "form":
        action = attributes.get("action", "")
        if action.startswith(("http:", "https:", "//")):
            yield Finding(tag, f"posts to {action!r}")


def assert_no_live_script(html: str, **kwargs) -> None:
    """Fails with every finding listed, so one run shows all that leaked."""
    findings = live_script(html, **kwargs)
    assert not findings, "live script in the page:\n" + "\n".join(map(str, findings))
