"""Writes to the page tree: site set-up, content import and export."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction
from wagtail.models import Locale, Page, Site

from articles.content_files import (
    CATEGORY_FILE,
    HOME_FILE,
    ArticleFile,
    CategoryFile,
    ContentSet,
    content_check_links,
    content_parse,
)
from articles.models import (
    ArticleAudience,
    ArticlePage,
    CategoryPage,
    HelpCenterPage,
)

DEFAULT_HOME_TITLE = "Help Center"


def locales_sync() -> list[Locale]:
    """Creates a Locale for every configured content language (idempotent)."""
    return [
        Locale.objects.get_or_create(language_code=code)[0]
        for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES
    ]


def help_center_ensure(
    *, locale: Locale, title: str | None = None, intro: str | None = None
) -> HelpCenterPage:
    """The live help-center home of a locale, created (as a translation of the default
    locale's home) when missing; the default Site is pointed at the default locale's."""
    home = HelpCenterPage.objects.filter(locale=locale).first()
    if home is None:
        source = HelpCenterPage.objects.exclude(locale=locale).order_by("id").first()
        root = Page.get_first_root_node()
        home = HelpCenterPage(
            title=title or DEFAULT_HOME_TITLE,
            slug=f"help-{locale.language_code}",
            locale=locale,
            intro=intro or "",
        )
        if source is not None:
            home.translation_key = source.translation_key
        root.add_child(instance=home)
        home.save_revision().publish()
    elif (
        (title and home.title != title)
        or (intro is not None and home.intro != intro)
        or not home.live
    ):
        home.title = title or home.title
        home.intro = intro if intro is not None else home.intro
        home.save_revision().publish()
    if locale.language_code == settings.LANGUAGE_CODE:
        _site_point_at(home)
    return home


def _site_point_at(home: HelpCenterPage) -> None:
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=home,
            is_default_site=True,
            site_name=settings.WAGTAIL_SITE_NAME,
        )
        return
    if site.root_page_id != home.id:
        old_root = site.root_page
        site.root_page = home
        site.site_name = settings.WAGTAIL_SITE_NAME
        site.save()
        # Wagtail's initial "Welcome" page is of no use once the help center is the root.
        if (
            type(old_root.specific) is Page
            and old_root.depth == 2
            and not old_root.get_children().exists()
        ):
            old_root.delete()


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unpublished: list[str] = field(default_factory=list)
    # Homes and categories created or changed (the lists above are articles only).
    sections: list[str] = field(default_factory=list)


def _existing_article_keys(*, prune: bool) -> set[tuple[str, str]]:
    live = ArticlePage.objects.live()
    if prune:
        # Imported articles missing from the files are about to be unpublished.
        live = live.filter(source_path="")
    return set(live.values_list("locale__language_code", "slug"))


def article_import_validate(*, root: Path, prune: bool = False) -> ContentSet:
    """Parses and checks every file under `root`, links included; writes nothing."""
    content = content_parse(Path(root))
    content_check_links(content, existing=_existing_article_keys(prune=prune))
    return content


def _translation_key_for(model, slug: str, locale: Locale):
    """The translation key of a same-slug page in another locale, default locale first."""
    others = (
        model.objects.filter(slug=slug).exclude(locale=locale).select_related("locale")
    )
    ranked = sorted(
        others, key=lambda p: (p.locale.language_code != settings.LANGUAGE_CODE, p.id)
    )
    return ranked[0].translation_key if ranked else None


def _publish(page: Page) -> None:
    page.save_revision(log_action=True).publish()


def _category_upsert(
    data: CategoryFile,
    home: HelpCenterPage,
    locale: Locale,
    report: ImportReport,
    dry_run: bool,
) -> CategoryPage | None:
    label = f"{data.locale}/{data.slug}/"
    page = CategoryPage.objects.filter(locale=locale, slug=data.slug).first()
    if page is None:
        report.sections.append(label)
        if dry_run:
            return None
        page = CategoryPage(
            title=data.title,
            slug=data.slug,
            locale=locale,
            description=data.description,
            order=data.order,
        )
        key = _translation_key_for(CategoryPage, data.slug, locale)
        if key:
            page.translation_key = key
        home.add_child(instance=page)
        _publish(page)
        return page
    explicit = data.path is not None
    changed = not page.live or (
        explicit
        and (page.title, page.description, page.order)
        != (data.title, data.description, data.order)
    )
    if changed:
        report.sections.append(label)
        if not dry_run:
            if explicit:
                page.title, page.description, page.order = (
                    data.title,
                    data.description,
                    data.order,
                )
            _publish(page)
    return page


def _article_state(page: ArticlePage) -> tuple:
    return (
        page.title,
        page.summary,
        page.kind,
        page.body,
        sorted(t.name for t in page.tags.all()),
        sorted(r.slug for r in page.related_articles.all()),
        page.last_reviewed,
        page.get_parent().slug,
        page.audience,
    )


def _article_file_state(data: ArticleFile) -> tuple:
    return (
        data.title,
        data.summary,
        data.kind,
        data.body,
        sorted(data.tags),
        sorted(data.related),
        data.last_reviewed,
        data.category,
        data.audience,
    )


def _resolve_related(slugs: Iterable[str], locale: Locale) -> list[ArticlePage]:
    pages = []
    for slug in slugs:
        page = ArticlePage.objects.filter(locale=locale, slug=slug).first()
        if page is None:
            page = ArticlePage.objects.filter(
                locale__language_code=settings.LANGUAGE_CODE, slug=slug
            ).first()
        if page is not None:
            pages.append(page)
    return pages


@transaction.atomic
def article_import_apply(
    *,
    content: ContentSet,
    root: Path,
    prune: bool = False,
    dry_run: bool = False,
    progress: Callable[[Iterable], Iterable] = lambda items: items,
) -> ImportReport:
    """Upserts validated content keyed by (locale, slug): a new revision is published only
    for what changed; with `prune`, imported articles whose file is gone are unpublished.
    All or nothing: any failure rolls every write back."""
    report = ImportReport()
    locales = {loc.language_code: loc for loc in locales_sync()}
    homes: dict[str, HelpCenterPage] = {}
    for code in content.locales():
        home_file = content.homes.get(code)
        existing = HelpCenterPage.objects.filter(locale=locales[code]).first()
        if (
            existing is None
            or not existing.live
            or (
                home_file
                and (existing.title, existing.intro)
                != (home_file.title, home_file.intro)
            )
        ):
            report.sections.append(f"{code}/")
        if dry_run:
            homes[code] = existing
            continue
        homes[code] = help_center_ensure(
            locale=locales[code],
            title=home_file.title if home_file else None,
            intro=home_file.intro if home_file else None,
        )

    categories: dict[tuple[str, str], CategoryPage | None] = {}
    for key in sorted(
        content.categories, key=lambda k: (k[0] != settings.LANGUAGE_CODE, k)
    ):
        data = content.categories[key]
        categories[key] = _category_upsert(
            data, homes.get(data.locale), locales[data.locale], report, dry_run
        )

    ordered = sorted(
        content.articles.values(),
        key=lambda a: (a.locale != settings.LANGUAGE_CODE, a.locale, a.slug),
    )
    # Pass 1: make sure every article exists (as an unpublished row) so that related
    # articles can point at each other; pass 2 writes fields and publishes once.
    new_pages: set[int] = set()
    if not dry_run:
        for data in ordered:
            locale = locales[data.locale]
            if not ArticlePage.objects.filter(locale=locale, slug=data.slug).exists():
                page = ArticlePage(
                    title=data.title, slug=data.slug, locale=locale, live=False
                )
                key = _translation_key_for(ArticlePage, data.slug, locale)
                if key:
                    page.translation_key = key
                categories[(data.locale, data.category)].add_child(instance=page)
                new_pages.add(page.pk)

    for data in progress(ordered):
        label = f"{data.locale}/{data.category}/{data.slug}"
        locale = locales[data.locale]
        page = ArticlePage.objects.filter(locale=locale, slug=data.slug).first()
        if page is None:
            report.created.append(label)
            continue
        is_new = page.pk in new_pages
        source_path = str(data.path.relative_to(root))
        if (
            not is_new
            and page.live
            and _article_state(page) == _article_file_state(data)
        ):
            report.unchanged.append(label)
            if page.source_path != source_path and not dry_run:
                ArticlePage.objects.filter(pk=page.pk).update(source_path=source_path)
            continue
        (report.created if is_new else report.updated).append(label)
        if dry_run:
            continue
        parent = categories[(data.locale, data.category)]
        if page.get_parent().pk != parent.pk:
            page.move(parent, pos="last-child")
            page.refresh_from_db()
        page.title = data.title
        page.summary = data.summary
        page.kind = data.kind
        page.audience = data.audience
        page.body = data.body
        page.last_reviewed = data.last_reviewed
        page.source_path = source_path
        page.tags.set(data.tags, clear=True)
        page.related_articles.set(_resolve_related(data.related, locale))
        _publish(page)

    if prune:
        present = set(content.articles)
        for page in (
            ArticlePage.objects.live().exclude(source_path="").select_related("locale")
        ):
            if (page.locale.language_code, page.slug) not in present:
                report.unpublished.append(f"{page.locale.language_code}/{page.slug}")
                if not dry_run:
                    page.unpublish(log_action=True)
    return report


def article_export(*, root: Path, locales: Iterable[str] | None = None) -> list[Path]:
    """Writes the live help center as content files under `root`, in the import format."""
    root = Path(root)
    written: list[Path] = []
    codes = set(locales) if locales else None
    for home in HelpCenterPage.objects.live().select_related("locale").order_by("id"):
        code = home.locale.language_code
        if codes is not None and code not in codes:
            continue
        written.append(
            _write(
                root / code / HOME_FILE,
                {"title": home.title, "intro": home.intro or None},
                "",
            )
        )
        for category in (
            CategoryPage.objects.child_of(home).live().order_by("order", "title")
        ):
            folder = root / code / category.slug
            written.append(
                _write(
                    folder / CATEGORY_FILE,
                    {
                        "title": category.title,
                        "description": category.description or None,
                        "order": category.order,
                    },
                    "",
                )
            )
            for article in (
                ArticlePage.objects.child_of(category).live().order_by("slug")
            ):
                front = {
                    "title": article.title,
                    "summary": article.summary or None,
                    "kind": article.kind,
                    # Public is the default: only internal articles say so.
                    "audience": (
                        article.audience
                        if article.audience != ArticleAudience.PUBLIC
                        else None
                    ),
                    "tags": sorted(t.name for t in article.tags.all()) or None,
                    "related": sorted(r.slug for r in article.related_articles.all())
                    or None,
                    "last_reviewed": article.last_reviewed,
                }
                written.append(
                    _write(folder / f"{article.slug}.md", front, article.body)
                )
    return written


class _FlowListDumper(yaml.SafeDumper):
    pass


def _represent_list(dumper, data):
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


_FlowListDumper.add_representer(list, _represent_list)


def _write(path: Path, front: dict, body: str) -> Path:
    front = {k: v for k, v in front.items() if v is not None}
    text = yaml.dump(
        front, Dumper=_FlowListDumper, allow_unicode=True, sort_keys=False, width=100
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    body = body.strip("\n")
    path.write_text(
        f"---\n{text}---\n" + (f"{body}\n" if body else ""), encoding="utf-8"
    )
    return path
