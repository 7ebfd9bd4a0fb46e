"""modelsearch's own backend test suite, run against the Whoosh backend."""

import shutil
import tempfile
from pathlib import Path

from django.test import TestCase, override_settings
from modelsearch.tests.test_backends import BackendTests

BACKEND_PATH = "search.backends.whoosh"
FIXTURE = str(Path(__file__).parent / "fixtures" / "search.json")


class TestWhooshBackend(BackendTests, TestCase):
    backend_path = BACKEND_PATH
    # The modelsearch wheel ships its test models but not their fixture.
    fixtures = [FIXTURE]

    @classmethod
    def setUpClass(cls):
        cls.index_dir = tempfile.mkdtemp(prefix="kb-whoosh-conformance-")
        backends = {"default": {"BACKEND": BACKEND_PATH, "PATH": cls.index_dir}}
        # The suite reads MODELSEARCH_BACKENDS; Wagtail's app config reads
        # WAGTAILSEARCH_BACKENDS.
        cls._backend_settings = override_settings(
            MODELSEARCH_BACKENDS=backends, WAGTAILSEARCH_BACKENDS=backends
        )
        cls._backend_settings.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._backend_settings.disable()
        shutil.rmtree(cls.index_dir, ignore_errors=True)
