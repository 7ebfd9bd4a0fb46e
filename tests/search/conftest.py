import sys

import pytest
import wagtail.search.models
from django.core.management import get_commands

from search.backends.whoosh import reset_process_state

# Under Wagtail, modelsearch's IndexEntry model lives in the wagtail.search app
# ("modelsearch" itself is not installed), but modelsearch's conformance suite
# imports it from modelsearch.models.
sys.modules.setdefault("modelsearch.models", wagtail.search.models)
# The suite calls modelsearch's `rebuild_modelsearch_index`, which Wagtail installs
# as `update_index` (the same command class); make the original name resolvable.
get_commands().setdefault("rebuild_modelsearch_index", "modelsearch")


@pytest.fixture(autouse=True)
def _fresh_searchers():
    """Each test starts without warm searchers left over from earlier index folders."""
    reset_process_state()
    yield
    reset_process_state()
