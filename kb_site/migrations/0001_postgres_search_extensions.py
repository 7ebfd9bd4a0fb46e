"""On PostgreSQL, enables what Wagtail's database search backend needs for fuzzy search.

search.selectors retries with a Fuzzy query when little is found; on PostgreSQL that
runs on pg_trgm (and unaccent), which modelsearch's own commands enable. Without them
every such search fails ("Fuzzy search requires the PostgreSQL pg_trgm extension").
Does nothing on other databases. Both extensions are trusted (PostgreSQL 13+): the
database owner may create them.
"""

from django.core.management import call_command
from django.db import migrations


def enable_search_extensions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    call_command("enable_unaccent", verbosity=0)
    call_command("enable_trigram", verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("wagtailsearch", "0010_add_text_fields")]

    operations = [
        migrations.RunPython(enable_search_extensions, migrations.RunPython.noop),
    ]
