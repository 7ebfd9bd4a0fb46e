"""Settings shared by every environment; integrations are switched on by env vars."""

import dj_database_url

from kb_site.env import BASE_DIR, data_dir, env_bool, env_list, env_str

KB_DATA_DIR = data_dir()

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "kb_site",
    "articles",
    "search",
    "feedback",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.search_promotions",
    "wagtail.contrib.simple_translation",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.locales",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "rest_framework",
    "drf_spectacular",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "kb_site.urls"
WSGI_APPLICATION = "kb_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kb_site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite by default, in WAL mode with a busy timeout and IMMEDIATE transactions so
# that concurrent writers queue instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA busy_timeout=20000;"
        "PRAGMA foreign_keys=ON;"
    ),
}
if env_str("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(env_str("DATABASE_URL"), conn_max_age=60)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": KB_DATA_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Languages: adding a locale is configuration only (one line here, then
# `manage.py sync_locales`, and content under content/<code>/).
LANGUAGE_CODE = "en"
KB_LOCALES = [
    ("en", "English"),
    ("sv", "Svenska"),
    ("id", "Bahasa Indonesia"),
    ("zh-hant", "繁體中文"),
    ("ru", "Русский"),
]
LANGUAGES = WAGTAIL_CONTENT_LANGUAGES = KB_LOCALES
WAGTAIL_I18N_ENABLED = True
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "kb_site" / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = KB_DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "kb_site" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = KB_DATA_DIR / "media"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "kb",
    }
}

WAGTAIL_SITE_NAME = "Kestrel Help Center"
WAGTAILADMIN_BASE_URL = env_str("KB_BASE_URL", "http://127.0.0.1:8000")
# Search: the embedded Whoosh index by default; beyond one machine, Wagtail's own
# Elasticsearch/OpenSearch backends or its database backend (on PostgreSQL), chosen here only.
KB_SEARCH_BACKEND = env_str("KB_SEARCH_BACKEND", "whoosh")
_SEARCH_BACKENDS = {
    "whoosh": {
        "BACKEND": "search.backends.whoosh",
        "PATH": KB_DATA_DIR / "search-index",
    },
    "database": {"BACKEND": "wagtail.search.backends.database"},
    "elasticsearch": {
        "BACKEND": "wagtail.search.backends.elasticsearch8",
        "URLS": env_list("KB_SEARCH_URL", ["http://localhost:9200"]),
        "INDEX_PREFIX": env_str("KB_SEARCH_INDEX_PREFIX", "kb_"),
    },
    "opensearch": {
        "BACKEND": "modelsearch.backends.opensearch3",
        "URLS": env_list("KB_SEARCH_URL", ["http://localhost:9200"]),
        "INDEX_PREFIX": env_str("KB_SEARCH_INDEX_PREFIX", "kb_"),
    },
}
WAGTAILSEARCH_BACKENDS = {"default": _SEARCH_BACKENDS[KB_SEARCH_BACKEND]}
WAGTAIL_MODERATION_ENABLED = True
WAGTAIL_WORKFLOW_ENABLED = True
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "txt", "xlsx", "zip"]

# Articles
KB_STALE_AFTER_DAYS = 180

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kb_site.api.errors.api_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kestrel Help Center API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# The article page template is composed by kb_site (it adds the feedback app's
# helpfulness vote to the articles app's page); articles itself knows nothing of votes.
KB_ARTICLE_TEMPLATE = "kb_site/article_page.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "kb": {"handlers": ["console"], "level": env_str("KB_LOG_LEVEL", "INFO")},
    },
}

# Feedback
# A deflection is a positive signal with no escalation or ticket within this many hours.
KB_ATTRIBUTION_WINDOW_HOURS = int(env_str("KB_ATTRIBUTION_WINDOW_HOURS", "24"))
KB_VISITOR_COOKIE = "kb_visitor"
KB_VISITOR_COOKIE_AGE = 365 * 24 * 3600
KB_JOURNEY_COOKIE = "kb_journey"
# Sets the anonymous visitor and journey cookies on pages that show the vote form.
MIDDLEWARE = [*MIDDLEWARE, "feedback.visitor.visitor_cookie_middleware"]
# Vote attempts allowed per hour, per visitor cookie and per (hashed) IP address.
KB_VOTE_RATE_LIMIT_VISITOR = 30
KB_VOTE_RATE_LIMIT_IP = 120
