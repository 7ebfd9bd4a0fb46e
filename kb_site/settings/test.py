import os
import tempfile

# The whole site (database, index, media) lives in a throwaway folder for a test run.
os.environ["KB_DATA_DIR"] = tempfile.mkdtemp(prefix="kb-test-")

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

# modelsearch's own backend conformance suite (tests/search) needs its test models;
# only the test settings install them, so production never migrates them.
INSTALLED_APPS = [*INSTALLED_APPS, "modelsearch.test.testapp"]  # noqa: F405
# Its migrations depend on the "modelsearch" app, which Wagtail replaces with
# wagtail.search; the test database creates its tables straight from the models.
MIGRATION_MODULES = {"searchtests": None}
