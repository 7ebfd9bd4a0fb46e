from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from search.models import Synonym


class SynonymViewSet(SnippetViewSet):
    model = Synonym
    icon = "list-ul"
    menu_label = "Search synonyms"
    add_to_admin_menu = True
    menu_order = 300
    list_display = ["terms", "locale"]
    list_filter = ["locale"]
    search_fields = ["terms"]


register_snippet(SynonymViewSet)
