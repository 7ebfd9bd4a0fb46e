from kb_site.env import env_bool, env_list, env_str

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
# A development-only key; production.py refuses to start without SECRET_KEY.
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-not-for-production")  # noqa: S105
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# The demo's contact form "sends" to the console, so `make run` has a working form.
KB_CONTACT_EMAIL_TO = env_list("KB_CONTACT_EMAIL_TO", ["support@kestrel.example"])
