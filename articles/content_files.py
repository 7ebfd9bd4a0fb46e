"""Reading and validating content files (`content/<locale>/<category>/<slug>.md`).

Pure parsing: nothing here writes to the database. Every problem is reported as a
`ContentError` carrying the file's path and the line it is on, and all files are
checked before anything is imported.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings

from articles.markdown import ARTICLE_LINK_SCHEME
from articles.models import SUMMARY_MAX_LENGTH, ArticleAudience, ArticleKind

CATEGORY_FILE = "_category.md"
HOME_FILE = "_index.md"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ARTICLE_LINK_RE = re.compile(
    r"\]\(\s*" + re.escape(ARTICLE_LINK_SCHEME) + r"([^)\s#]*)"
)
TITLE_MAX_LENGTH = 255

ARTICLE_KEYS = {
    "title",
    "summary",
    "kind",
    "audience",
    "tags",
    "related",
    "last_reviewed",
}
CATEGORY_KEYS = {"title", "description", "order"}
HOME_KEYS = {"title", "intro"}


@dataclass(frozen=True)
class ContentError:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class HomeFile:
    locale: str
    title: str
    intro: str
    path: Path


@dataclass
class CategoryFile:
    locale: str
    slug: str
    title: str
    description: str
    order: int
    path: Path | None


@dataclass
class ArticleFile:
    locale: str
    category: str
    slug: str
    title: str
    summary: str
    kind: str
    tags: list[str]
    related: list[str]
    last_reviewed: datetime.date | None
    body: str
    path: Path
    key_lines: dict[str, int] = field(default_factory=dict)
    body_first_line: int = 1
    # "internal": for support agents only; omitted from the file when public.
    audience: str = ArticleAudience.PUBLIC


@dataclass
class ContentSet:
    homes: dict[str, HomeFile] = field(default_factory=dict)
    categories: dict[tuple[str, str], CategoryFile] = field(default_factory=dict)
    articles: dict[tuple[str, str], ArticleFile] = field(default_factory=dict)
    errors: list[ContentError] = field(default_factory=list)

    def locales(self) -> list[str]:
        """The locales present, the default language first."""
        codes = (
            {a.locale for a in self.articles.values()}
            | {c.locale for c in self.categories.values()}
            | set(self.homes)
        )
        return sorted(codes, key=lambda c: (c != settings.LANGUAGE_CODE, c))


def _known_locales() -> set[str]:
    return {code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES}


def _split_front_matter(path: Path, text: str) -> tuple[str, str, int] | ContentError:
    """Returns (front matter, body, first body line number) or an error."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return ContentError(
            path, 1, "missing front matter: the file must start with a line '---'"
        )
    for index in range(1, len(lines)):
        if lines[index].strip() in {"---", "..."}:
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    return ContentError(
        path, 1, "front matter is not closed: add a line '---' after it"
    )


def _load_yaml(path: Path, front: str) -> tuple[dict, dict[str, int]] | ContentError:
    """Parses the front matter; returns the mapping and the line of each key."""
    try:
        node = yaml.compose(front, Loader=yaml.SafeLoader)
        data = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context_mark", None)
        if context is not None and (mark is None or mark.index >= len(front.rstrip())):
            # An unclosed bracket or quote is noticed at the end: point at its start.
            mark = context
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return ContentError(path, line, f"invalid YAML in front matter: {problem}")
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        return ContentError(path, 2, "front matter must be a mapping of keys to values")
    key_lines = {
        k.value: k.start_mark.line + 2
        for k, _v in node.value
        if isinstance(k, yaml.ScalarNode)
    }
    return data, key_lines


def _as_text(value, *, path, line, key, errors, max_length=None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        errors.append(ContentError(path, line, f"'{key}' must be text"))
        return ""
    text = str(value).strip()
    if max_length is not None and len(text) > max_length:
        errors.append(
            ContentError(
                path,
                line,
                f"'{key}' is {len(text)} characters long; the limit is {max_length}",
            )
        )
    return text


def _as_list(value, *, path, line, key, errors) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in (p.strip() for p in value.split(",")) if part]
    if not isinstance(value, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value
    ):
        errors.append(
            ContentError(
                path, line, f"'{key}' must be a list of words, e.g. [one, two]"
            )
        )
        return []
    return [str(v).strip() for v in value if str(v).strip()]


def _check_keys(data: dict, allowed: set[str], *, path, key_lines, errors) -> None:
    for key in data:
        if key not in allowed:
            errors.append(
                ContentError(
                    path,
                    key_lines.get(key, 2),
                    f"unknown key '{key}' (expected one of: {', '.join(sorted(allowed))})",
                )
            )


def _text_field(
    data: dict, key: str, *, path, key_lines, errors, max_length=None
) -> str:
    """The text under `key`, with errors reported on the key's line."""
    return _as_text(
        data.get(key),
        path=path,
        line=key_lines.get(key, 2),
        key=key,
        errors=errors,
        max_length=max_length,
    )


def _title(data: dict, *, path, key_lines, errors) -> str:
    """The required title of any content file."""
    title = _text_field(
        data,
        "title",
        path=path,
        key_lines=key_lines,
        errors=errors,
        max_length=TITLE_MAX_LENGTH,
    )
    if not title:
        errors.append(ContentError(path, key_lines.get("title", 1), "missing 'title'"))
    return title


def _parse_home(path: Path, locale: str, errors: list[ContentError]) -> HomeFile | None:
    parsed = _parse_file(path, errors)
    if parsed is None:
        return None
    data, key_lines, _body, _line = parsed
    _check_keys(data, HOME_KEYS, path=path, key_lines=key_lines, errors=errors)
    title = _title(data, path=path, key_lines=key_lines, errors=errors)
    intro = _text_field(data, "intro", path=path, key_lines=key_lines, errors=errors)
    return HomeFile(locale=locale, title=title, intro=intro, path=path)


def _parse_category(
    path: Path, locale: str, slug: str, errors: list[ContentError]
) -> CategoryFile | None:
    parsed = _parse_file(path, errors)
    if parsed is None:
        return None
    data, key_lines, _body, _line = parsed
    _check_keys(data, CATEGORY_KEYS, path=path, key_lines=key_lines, errors=errors)
    title = _title(data, path=path, key_lines=key_lines, errors=errors)
    description = _text_field(
        data, "description", path=path, key_lines=key_lines, errors=errors
    )
    order = data.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool):
        errors.append(
            ContentError(
                path, key_lines.get("order", 2), "'order' must be a whole number"
            )
        )
        order = 0
    return CategoryFile(
        locale=locale,
        slug=slug,
        title=title,
        description=description,
        order=order,
        path=path,
    )


def _parse_file(path: Path, errors: list[ContentError]):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        errors.append(ContentError(path, line, "the file is not valid UTF-8"))
        return None
    if "\x00" in text:
        errors.append(
            ContentError(
                path,
                text[: text.index("\x00")].count("\n") + 1,
                "the file contains a NUL byte",
            )
        )
        return None
    split = _split_front_matter(path, text)
    if isinstance(split, ContentError):
        errors.append(split)
        return None
    front, body, body_line = split
    loaded = _load_yaml(path, front)
    if isinstance(loaded, ContentError):
        errors.append(loaded)
        return None
    data, key_lines = loaded
    return data, key_lines, body, body_line


def _parse_article(
    path: Path, locale: str, category: str, errors: list[ContentError]
) -> ArticleFile | None:
    parsed = _parse_file(path, errors)
    if parsed is None:
        return None
    data, key_lines, body, body_line = parsed
    body_line += len(body) - len(body.lstrip("\n"))
    body = body.strip("\n")
    _check_keys(data, ARTICLE_KEYS, path=path, key_lines=key_lines, errors=errors)

    def line(key: str) -> int:
        return key_lines.get(key, 2)

    title = _title(data, path=path, key_lines=key_lines, errors=errors)
    summary = _text_field(
        data,
        "summary",
        path=path,
        key_lines=key_lines,
        errors=errors,
        max_length=SUMMARY_MAX_LENGTH,
    )
    kind = data.get("kind", ArticleKind.GUIDE)
    if kind not in ArticleKind.values:
        errors.append(
            ContentError(
                path,
                line("kind"),
                f"unknown kind '{kind}' (expected one of: {', '.join(ArticleKind.values)})",
            )
        )
    audience = data.get("audience", ArticleAudience.PUBLIC)
    if audience not in ArticleAudience.values:
        errors.append(
            ContentError(
                path,
                line("audience"),
                f"unknown audience '{audience}' "
                f"(expected one of: {', '.join(ArticleAudience.values)})",
            )
        )
        audience = ArticleAudience.PUBLIC
    tags = _as_list(
        data.get("tags"), path=path, line=line("tags"), key="tags", errors=errors
    )
    related = _as_list(
        data.get("related"),
        path=path,
        line=line("related"),
        key="related",
        errors=errors,
    )
    last_reviewed = data.get("last_reviewed")
    if isinstance(last_reviewed, str):
        try:
            last_reviewed = datetime.date.fromisoformat(last_reviewed.strip())
        except ValueError:
            last_reviewed = "invalid"
    if (
        last_reviewed is not None
        and not isinstance(last_reviewed, datetime.date)
        or isinstance(last_reviewed, datetime.datetime)
    ):
        errors.append(
            ContentError(
                path,
                line("last_reviewed"),
                "'last_reviewed' must be a date like 2026-09-14",
            )
        )
        last_reviewed = None
    return ArticleFile(
        locale=locale,
        category=category,
        slug=path.stem,
        title=title,
        summary=summary,
        kind=str(kind),
        tags=tags,
        related=related,
        last_reviewed=last_reviewed,
        body=body + "\n" if body.strip() else "",
        path=path,
        key_lines=key_lines,
        body_first_line=body_line,
        audience=str(audience),
    )


def content_parse(root: Path) -> ContentSet:
    """Reads every content file under `root` and validates each on its own."""
    content = ContentSet()
    root = Path(root)
    if not root.is_dir():
        content.errors.append(ContentError(root, 0, "no such content folder"))
        return content
    known = _known_locales()
    for path in sorted(root.rglob("*.md")):
        parts = path.relative_to(root).parts
        if len(parts) == 2 and parts[1] == HOME_FILE:
            locale = parts[0]
        elif len(parts) == 3:
            locale = parts[0]
        else:
            content.errors.append(
                ContentError(
                    path, 1, "unexpected location: use <locale>/<category>/<slug>.md"
                )
            )
            continue
        if locale not in known:
            content.errors.append(
                ContentError(
                    path,
                    1,
                    f"unknown locale '{locale}' (configured: {', '.join(sorted(known))})",
                )
            )
            continue
        if len(parts) == 2:
            home = _parse_home(path, locale, content.errors)
            if home:
                content.homes[locale] = home
            continue
        category = parts[1]
        if not SLUG_RE.match(category):
            content.errors.append(
                ContentError(
                    path,
                    1,
                    f"category folder '{category}' is not a valid slug (lowercase letters, digits, hyphens)",
                )
            )
            continue
        if parts[2] == CATEGORY_FILE:
            parsed = _parse_category(path, locale, category, content.errors)
            if parsed:
                content.categories[(locale, category)] = parsed
            continue
        if not SLUG_RE.match(path.stem):
            content.errors.append(
                ContentError(
                    path,
                    1,
                    f"file name '{path.name}' is not a valid slug (lowercase letters, digits, hyphens)",
                )
            )
            continue
        article = _parse_article(path, locale, category, content.errors)
        if article is None:
            continue
        duplicate = content.articles.get((locale, article.slug))
        if duplicate is not None:
            content.errors.append(
                ContentError(
                    path,
                    1,
                    f"duplicate slug '{article.slug}' in locale '{locale}': also used by {duplicate.path}",
                )
            )
            continue
        content.articles[(locale, article.slug)] = article
    for (locale, _slug), article in content.articles.items():
        if (locale, article.category) not in content.categories:
            content.categories[(locale, article.category)] = CategoryFile(
                locale=locale,
                slug=article.category,
                title=article.category.replace("-", " ").capitalize(),
                description="",
                order=0,
                path=None,
            )
    return content


def content_check_links(content: ContentSet, *, existing: set[tuple[str, str]]) -> None:
    """Adds an error for each `article:` link or `related` slug that resolves nowhere.

    A slug resolves when the same locale has it, or the default locale does (an
    untranslated article falls back to the original), in the files or in `existing`.
    """
    known = set(content.articles) | existing
    default = settings.LANGUAGE_CODE

    def resolves(locale: str, slug: str) -> bool:
        return (locale, slug) in known or (default, slug) in known

    for article in content.articles.values():
        for slug in article.related:
            if not resolves(article.locale, slug):
                content.errors.append(
                    ContentError(
                        article.path,
                        article.key_lines.get("related", 2),
                        f"related article '{slug}' does not exist",
                    )
                )
        for offset, text in enumerate(article.body.splitlines()):
            for match in ARTICLE_LINK_RE.finditer(text):
                slug = match.group(1)
                if not resolves(article.locale, slug):
                    content.errors.append(
                        ContentError(
                            article.path,
                            article.body_first_line + offset,
                            f"broken link: no article '{slug}'",
                        )
                    )
