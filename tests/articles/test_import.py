from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from wagtail.models import Page, Revision

from articles.models import ArticlePage, CategoryPage, HelpCenterPage
from articles.services import article_import_apply, article_import_validate


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


ARTICLE = """---
title: {title}
summary: How to get back into your account.
kind: {kind}
tags: [password, sign-in]
related: [{related}]
last_reviewed: 2026-09-14
---
Intro text.

## Steps

1. Open the sign-in page.
2. See [two-factor](article:two-factor-authentication).
"""


@pytest.fixture
def content(tmp_path):
    root = tmp_path / "content"
    write(
        root,
        "en/account/_category.md",
        "---\ntitle: Account\ndescription: Sign-in help.\norder: 2\n---\n",
    )
    write(
        root,
        "en/account/reset-your-password.md",
        ARTICLE.format(
            title="Reset your password",
            kind="guide",
            related="two-factor-authentication",
        ),
    )
    write(
        root,
        "en/account/two-factor-authentication.md",
        "---\ntitle: Two-factor authentication\nkind: faq\n---\nUse an app.\n",
    )
    write(root, "sv/account/_category.md", "---\ntitle: Konto\norder: 2\n---\n")
    write(
        root,
        "sv/account/reset-your-password.md",
        ARTICLE.format(
            title="Återställ ditt lösenord",
            kind="guide",
            related="two-factor-authentication",
        ),
    )
    return root


def run_import(root, *args):
    call_command("import_content", str(root), *args, stdout=open("/dev/null", "w"))


@pytest.mark.django_db
def test_import_creates_the_page_tree_with_translations(content):
    run_import(content)
    en = ArticlePage.objects.get(locale__language_code="en", slug="reset-your-password")
    sv = ArticlePage.objects.get(locale__language_code="sv", slug="reset-your-password")
    assert en.live and sv.live
    assert en.translation_key == sv.translation_key
    assert sv.title == "Återställ ditt lösenord"
    assert en.get_parent().specific.title == "Account"
    assert en.get_parent().get_parent().specific_class is HelpCenterPage
    assert sorted(t.name for t in en.tags.all()) == ["password", "sign-in"]
    assert [r.slug for r in en.related_articles.all()] == ["two-factor-authentication"]
    assert str(en.last_reviewed) == "2026-09-14"
    assert en.body.startswith("Intro text.")
    assert en.source_path == "en/account/reset-your-password.md"
    # The Swedish "related" points at the English article: it is not translated yet.
    assert sv.related_articles.get().locale.language_code == "en"
    assert (
        HelpCenterPage.objects.get(locale__language_code="sv").translation_key
        == HelpCenterPage.objects.get(locale__language_code="en").translation_key
    )


@pytest.mark.django_db
def test_import_is_idempotent_and_publishes_only_changed_files(content):
    run_import(content)
    revisions = Revision.objects.count()
    run_import(content)
    assert Revision.objects.count() == revisions

    path = content / "en/account/two-factor-authentication.md"
    path.write_text(
        path.read_text().replace("Use an app.", "Use an authenticator app.")
    )
    run_import(content)
    assert Revision.objects.count() == revisions + 1
    page = ArticlePage.objects.get(
        locale__language_code="en", slug="two-factor-authentication"
    )
    assert page.body == "Use an authenticator app.\n"
    assert page.revisions.count() == 2  # history is kept


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing(content, capsys):
    call_command("import_content", str(content), "--dry-run")
    assert "Would have created 3" in capsys.readouterr().out
    assert not ArticlePage.objects.exists()


@pytest.mark.django_db
def test_prune_unpublishes_articles_whose_file_is_gone(content):
    run_import(content)
    (content / "en/account/two-factor-authentication.md").unlink()
    # The remaining files still link to it: the import must refuse first.
    with pytest.raises(CommandError):
        run_import(content, "--prune")
    for rel in (
        "en/account/reset-your-password.md",
        "sv/account/reset-your-password.md",
    ):
        write(
            content,
            rel,
            ARTICLE.format(title="Reset", kind="guide", related="").replace(
                "See [two-factor](article:two-factor-authentication).", "Done."
            ),
        )
    run_import(content)
    assert ArticlePage.objects.get(slug="two-factor-authentication").live
    run_import(content, "--prune")
    assert not ArticlePage.objects.get(slug="two-factor-authentication").live
    assert ArticlePage.objects.get(
        locale__language_code="en", slug="reset-your-password"
    ).live


@pytest.mark.django_db
def test_prune_keeps_articles_written_in_the_admin(content, category):
    from tests import factories

    admin_article = factories.article(category, slug="written-in-admin")
    run_import(content, "--prune")
    admin_article.refresh_from_db()
    assert admin_article.live


BAD_FILES = [
    (
        "en/account/bad-yaml.md",
        "---\ntitle: Broken\ntags: [a, b\n---\nBody\n",
        3,
        "invalid YAML",
    ),
    (
        "en/account/no-title.md",
        "---\nsummary: Nothing else\n---\nBody\n",
        1,
        "missing 'title'",
    ),
    ("en/account/no-front-matter.md", "Just text\n", 1, "missing front matter"),
    (
        "en/account/unclosed.md",
        "---\ntitle: X\nBody\n",
        1,
        "front matter is not closed",
    ),
    (
        "en/account/bad-kind.md",
        "---\ntitle: X\nsummary: s\nkind: tutorial\n---\nBody\n",
        4,
        "unknown kind 'tutorial'",
    ),
    (
        "xx/account/bad-locale.md",
        "---\ntitle: X\n---\nBody\n",
        1,
        "unknown locale 'xx'",
    ),
    (
        "en/account/long-summary.md",
        "---\ntitle: X\nsummary: " + "a" * 301 + "\n---\nBody\n",
        3,
        "'summary' is 301 characters long; the limit is 300",
    ),
    (
        "en/account/broken-link.md",
        "---\ntitle: X\n---\nLine one.\n\nSee [x](article:nowhere).\n",
        6,
        "broken link: no article 'nowhere'",
    ),
    (
        "en/account/bad-related.md",
        "---\ntitle: X\nrelated: [nowhere]\n---\nBody\n",
        3,
        "related article 'nowhere' does not exist",
    ),
    (
        "en/account/bad-date.md",
        "---\ntitle: X\nlast_reviewed: yesterday\n---\nBody\n",
        3,
        "'last_reviewed' must be a date",
    ),
    (
        "en/account/typo-key.md",
        "---\ntitle: X\ntitel: Y\n---\nBody\n",
        3,
        "unknown key 'titel'",
    ),
    (
        "en/account/Bad_Name.md",
        "---\ntitle: X\n---\nBody\n",
        1,
        "file name 'Bad_Name.md' is not a valid slug",
    ),
    (
        "en/other/reset-your-password.md",
        "---\ntitle: Dup\n---\nBody\n",
        1,
        "duplicate slug 'reset-your-password'",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rel,text,line,message", BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_a_bad_file_is_reported_with_path_and_line_and_nothing_is_imported(
    content, capsys, rel, text, line, message
):
    path = write(content, rel, text)
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_content", str(content))
    err = capsys.readouterr().err
    if "duplicate" in message:
        # Files are read in path order; whichever comes second is the duplicate.
        assert f":{line}: {message}" in err
    else:
        assert f"{path}:{line}: {message}" in err, err
    assert not ArticlePage.objects.exists()
    assert not CategoryPage.objects.exists()


@pytest.mark.django_db
def test_every_error_is_listed_not_only_the_first(content):
    write(content, "en/account/a.md", "---\ntitle: A\nkind: nope\n---\n")
    write(content, "en/account/b.md", "---\nsummary: no title\n---\n")
    result = article_import_validate(root=content)
    assert {(e.path.name, e.line) for e in result.errors} == {("a.md", 3), ("b.md", 1)}


@pytest.mark.django_db
def test_a_failure_during_writing_rolls_everything_back(content, monkeypatch):
    from articles import services

    calls = {"n": 0}
    real = services._publish

    def failing_publish(page):
        calls["n"] += 1
        if isinstance(page, ArticlePage) and calls["n"] > 4:
            raise RuntimeError("disk full")
        return real(page)

    monkeypatch.setattr(services, "_publish", failing_publish)
    validated = article_import_validate(root=content)
    with pytest.raises(RuntimeError):
        article_import_apply(content=validated, root=content)
    assert not ArticlePage.objects.exists()
    assert (
        Page.objects.filter(depth__gt=1).count() == Page.objects.filter(depth=2).count()
    )


@pytest.mark.django_db
def test_export_then_import_changes_nothing(content, tmp_path):
    run_import(content)
    exported = tmp_path / "exported"
    call_command("export_content", str(exported), stdout=open("/dev/null", "w"))
    assert (exported / "en/account/reset-your-password.md").exists()
    assert (
        (exported / "sv/account/_category.md")
        .read_text()
        .startswith("---\ntitle: Konto\n")
    )
    revisions = Revision.objects.count()
    run_import(exported)
    assert Revision.objects.count() == revisions
    again = tmp_path / "again"
    call_command("export_content", str(again), stdout=open("/dev/null", "w"))
    for path in exported.rglob("*.md"):
        assert path.read_text() == (again / path.relative_to(exported)).read_text()


@pytest.mark.django_db
def test_moving_a_file_to_another_category_moves_the_article(content):
    run_import(content)
    old = content / "en/account/two-factor-authentication.md"
    write(content, "en/security/two-factor-authentication.md", old.read_text())
    old.unlink()
    run_import(content)
    page = ArticlePage.objects.get(
        locale__language_code="en", slug="two-factor-authentication"
    )
    assert page.get_parent().slug == "security"
