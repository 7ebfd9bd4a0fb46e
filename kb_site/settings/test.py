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

# --- contact and tickets ---
# Throttles never bite in other tests (tests/kb_site/test_api_throttling.py lowers
# them); their counters stay in memory.
KB_API_RATE_PER_IP = "1000000/min"
KB_API_RATE_PER_KEY = {  # noqa: F405
    scope: "1000000/min"
    for scope in KB_API_RATE_PER_KEY  # noqa: F405
}
CACHES = {  # noqa: F405
    **CACHES,  # noqa: F405
    "throttle": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "kb-throttle",
    },
}
KB_CONTACT_RATE_LIMIT_VISITOR = 1000
KB_CONTACT_RATE_LIMIT_IP = 1000

# --- reports ---
# Tests change events and read figures at once: no caching of live figures.
KB_ROLLUP_LIVE_CACHE_SECONDS = 0
