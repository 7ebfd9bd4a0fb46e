from django import template
from django.conf import settings
from django.utils.translation import get_language

from articles.models import HelpCenterPage
from articles.selectors import help_center_for_locale, locale_get

register = template.Library()

LANGUAGE_NAMES = dict(settings.WAGTAIL_CONTENT_LANGUAGES)


@register.inclusion_tag("kb_site/includes/language_switcher.html", takes_context=True)
def language_switcher(context, page=None):
    """Links to this page in every locale that has it, else to that locale's home."""
    current = get_language()
    links = []
    translations = {}
    if page is not None and getattr(page, "translation_key", None):
        for p in (
            page.get_translations(inclusive=True)
            .live()
            .public()
            .select_related("locale")
        ):
            translations[p.locale.language_code] = p
    for code, name in settings.WAGTAIL_CONTENT_LANGUAGES:
        target = translations.get(code)
        if target is None:
            locale = locale_get(language_code=code)
            target = help_center_for_locale(locale=locale) if locale else None
        if target is None:
            continue
        links.append(
            {
                "code": code,
                "name": name,
                "url": target.get_url(),
                "current": code == current,
                "translated": code in translations,
            }
        )
    return {"links": links, "current_name": LANGUAGE_NAMES.get(current, current)}


@register.simple_tag
def locale_home_url():
    """The URL of the help-center home in the active language."""
    locale = locale_get(language_code=get_language())
    home = help_center_for_locale(locale=locale) if locale else None
    if home is None:
        home = HelpCenterPage.objects.live().first()
    return home.get_url() if home else "/"
