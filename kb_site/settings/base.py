"""Settings shared by every environment; integrations are switched on by env vars."""

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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
# Processes that write the Whoosh index at once during `update_index` (one segment
# each); 1 writes in the update_index process only.
KB_SEARCH_REBUILD_PROCS = int(
    env_str("KB_SEARCH_REBUILD_PROCS", str(min(2, os.cpu_count() or 1)))
)
_SEARCH_BACKENDS = {
    "whoosh": {
        "BACKEND": "search.backends.whoosh",
        "PATH": KB_DATA_DIR / "search-index",
        "REBUILD_PROCS": KB_SEARCH_REBUILD_PROCS,
    },
    "database": {
        "BACKEND": "wagtail.search.backends.database",
        # PostgreSQL's text search configuration (stemming): one for every locale.
        "SEARCH_CONFIG": env_str("KB_SEARCH_DB_CONFIG", "english"),
    },
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
if KB_SEARCH_BACKEND not in _SEARCH_BACKENDS:
    raise ImproperlyConfigured(
        f"KB_SEARCH_BACKEND={KB_SEARCH_BACKEND!r}: choose one of "
        f"{', '.join(sorted(_SEARCH_BACKENDS))}."
    )
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

# --- Security headers and CSP (kb_site/security.py, tests/security) ---
# Public pages run no inline script or style: all JavaScript and CSS come from
# /static/. The widget (kb/widget.js) styles its shadow root with a constructed
# stylesheet (adoptedStyleSheets) or a <link> to a static .css file, both allowed by
# style-src 'self'; a <style> element or other style="" attribute would be blocked,
# so /widget-demo/ needs no 'unsafe-inline' either. Images in articles may come from
# any https host (Markdown's allow-list already refuses other schemes). The site is
# never framed: the widget is a script, not an iframe.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Markdown tables align columns with style="text-align:…" (the only inline
        # style the sanitiser keeps); exactly those three attribute values may apply.
        # sha256 of "text-align:left", "text-align:center", "text-align:right".
        "style-src-attr": [
            "'unsafe-hashes'",
            "'sha256-De7agAeYqm6ANIVvRRW6HFWi52AJW8inhFE0gSdgXnI='",
            "'sha256-kFAIUwypIt04FgLyVU63Lcmp2AQimPh/TdYjy04Flxs='",
            "'sha256-XzJlZKVo+ff9ozww9Sr2p/2TbJXITZuaWMZ9p53zN1U='",
        ],
        "img-src": ["'self'", "https:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Staff-only pages built from third-party templates get looser policies, chosen by
# path prefix. The Wagtail and Django admins still ship inline <script>/<style> and
# inline handlers, show Gravatar avatars and embed previews, and frame their own page
# preview (hence frame-ancestors 'self'). The API docs page (Swagger UI from the
# sidecar, started by a separate script: no inline script) still injects <style>
# and data: images. Neither shows visitor text as HTML, and scripts from any other
# host stay blocked on both.
_CSP_ADMIN = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'unsafe-inline'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:", "https:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'", "https:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'self'"],
}
_CSP_API_DOCS = {
    **_CSP_ADMIN,
    "script-src": ["'self'"],
    "frame-src": ["'none'"],
    "frame-ancestors": ["'none'"],
}
KB_CSP_PATH_POLICIES = {
    "/admin/": _CSP_ADMIN,
    "/django-admin/": _CSP_ADMIN,
    "/api/v1/docs": _CSP_API_DOCS,
    "/api/v1/schema": _CSP_API_DOCS,
}
MIDDLEWARE = [*MIDDLEWARE, "kb_site.security.ContentSecurityPolicyMiddleware"]
# Django sends these by default; stated here so a change is deliberate (and tested).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- search quality and bot answer ---
# /api/v1/answer sets `handoff` when its confidence (a calibrated probability that the
# answer is right) is below this; on StackFAQ 0.7 answers 73% of questions, 87% of them
# rightly (docs/search-quality.md).
KB_ANSWER_HANDOFF_BELOW = float(env_str("KB_ANSWER_HANDOFF_BELOW", "0.7"))

# --- Search speed ---
# Search and suggest results kept per server process (0 turns the cache off); they are
# dropped at once when the index, synonyms or promotions change, in every process.
KB_SEARCH_CACHE_SIZE = int(env_str("KB_SEARCH_CACHE_SIZE", "1024"))
# Queries of at most this many words (stop words aside) list the articles that hold
# every word first; longer ones (questions in a sentence) rank by BM25F alone.
KB_SEARCH_ALL_TERMS_MAX_WORDS = int(env_str("KB_SEARCH_ALL_TERMS_MAX_WORDS", "4"))

# --- widget ---
# The embeddable widget (kb_site/static/kb/widget.js) calls /api/v1/ from customers'
# sites. Browsers may call the API cross-origin only from these origins (plus those
# listed on a widget key, see kb_site/api/cors.py); a widget key used from any other
# origin gets a 403 (kb_site/api/auth.py). Comma-separated, e.g.
# KB_WIDGET_ORIGINS=https://shop.example.com,https://www.example.com
KB_WIDGET_ORIGINS = [
    origin.rstrip("/").lower() for origin in env_list("KB_WIDGET_ORIGINS", [])
]
INSTALLED_APPS = [*INSTALLED_APPS, "corsheaders"]
# Before CommonMiddleware, so preflight (OPTIONS) requests are answered first.
MIDDLEWARE = ["kb_site.api.cors.WidgetCorsMiddleware", *MIDDLEWARE]
CORS_ALLOWED_ORIGINS = KB_WIDGET_ORIGINS
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "POST", "OPTIONS"]
CORS_PREFLIGHT_MAX_AGE = 86400
# /widget-demo/ embeds the widget with this key; when empty it reads the key that
# `make run` (create_api_key --demo) saved in KB_DATA_DIR/widget-demo-key.
KB_DEMO_WIDGET_KEY = env_str("KB_DEMO_WIDGET_KEY")
KB_DEMO_WIDGET_KEY_FILE = KB_DATA_DIR / "widget-demo-key"

# --- public API: articles, answer, votes, agents, schema ---
# Swagger UI and its assets come from drf-spectacular-sidecar (served from /static/),
# so /api/v1/docs/ loads nothing from a CDN; every operation documents its errors.
INSTALLED_APPS = [*INSTALLED_APPS, "drf_spectacular_sidecar"]
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "kb_site.api.schema.KbAutoSchema"
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "DESCRIPTION": (
        "Search, articles, bot answers, votes, journey events and agent tools of the "
        "help center. Public reads need no key; other operations take "
        "`Authorization: Bearer <key>`. Every error is "
        '`{"error": {"code", "message", "field"}}`.'
    ),
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["kb_site.api.schema.public_api_only"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kb_site.api.schema.parameters_as_parsed",
    ],
}
# Seconds that browsers and proxies may reuse an article read (/api/v1/articles/…).
KB_API_ARTICLE_MAX_AGE = int(env_str("KB_API_ARTICLE_MAX_AGE", "60"))
# API and tracked-link 404s stay 404s (Django would redirect them under /en/).
MIDDLEWARE = [
    "kb_site.locale_middleware.KbLocaleMiddleware"
    if entry == "django.middleware.locale.LocaleMiddleware"
    else entry
    for entry in MIDDLEWARE
]

# --- contact and tickets ---
# The contact form (/<locale>/contact/, POST /api/v1/contact) forwards each request to
# a helpdesk webhook (a JSON POST, signed with X-KB-Signature when a secret is set)
# or, without one, e-mails it to KB_CONTACT_EMAIL_TO. With neither, the form says it
# is unavailable. A request support never received records no ticket.
KB_CONTACT_WEBHOOK_URL = env_str("KB_CONTACT_WEBHOOK_URL")
KB_CONTACT_WEBHOOK_SECRET = env_str("KB_CONTACT_WEBHOOK_SECRET")
KB_CONTACT_WEBHOOK_TIMEOUT = float(env_str("KB_CONTACT_WEBHOOK_TIMEOUT", "5"))
KB_CONTACT_EMAIL_TO = env_list("KB_CONTACT_EMAIL_TO", [])
KB_CONTACT_EMAIL_FROM = env_str("KB_CONTACT_EMAIL_FROM")
# The form's message and e-mail fields appear only after the subject was searched.
KB_CONTACT_REQUIRE_SEARCH = env_bool("KB_CONTACT_REQUIRE_SEARCH", True)
# Contact requests allowed per hour, per visitor cookie and per (hashed) IP address.
KB_CONTACT_RATE_LIMIT_VISITOR = 5
KB_CONTACT_RATE_LIMIT_IP = 20
# POST /api/v1/tickets: the helpdesk signs each body with HMAC-SHA256 under this.
KB_HELPDESK_WEBHOOK_SECRET = env_str("KB_HELPDESK_WEBHOOK_SECRET")
# Salt of the stored e-mail hashes (HMAC-SHA256); derived from SECRET_KEY when empty.
# Set it explicitly when a helpdesk sends email_hash, and never change it after.
KB_EMAIL_HASH_SALT = env_str("KB_EMAIL_HASH_SALT")
# API throttling (kb_site/api/throttling.py): per key by scope, per IP without a key
# (and for public widget keys). "N/sec", "N/min", "N/hour" or "N/day".
KB_API_RATE_PER_IP = env_str("KB_API_RATE_PER_IP", "300/min")
KB_API_RATE_PER_KEY = {
    "widget": "6000/min",
    "bot": "1200/min",
    "agent": "600/min",
    "helpdesk": "600/min",
    "reports": "120/min",
    # KB_API_RATE_PER_KEY="bot=3000/min,reports=60/min" overrides some.
    **dict(
        item.split("=", 1)
        for item in env_list("KB_API_RATE_PER_KEY", [])
        if "=" in item
    ),
}
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "kb_site.api.throttling.ApiKeyRateThrottle",
    "kb_site.api.throttling.IpRateThrottle",
]
# Proxies in front of the site that append to X-Forwarded-For (0: use REMOTE_ADDR).
REST_FRAMEWORK["NUM_PROXIES"] = int(env_str("KB_NUM_PROXIES", "0"))
# What every worker must agree on (throttle and rate-limit counters, invalidation
# stamps) lives in a shared cache: files under KB_DATA_DIR on one machine (every
# gunicorn worker there shares them; a per-process cache would multiply the limits
# by the workers), Redis (KB_CACHE_URL=redis://host:6379/0) for several machines.
KB_CACHE_URL = env_str("KB_CACHE_URL", "")


def _shared_cache(name: str) -> dict:
    if KB_CACHE_URL:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": KB_CACHE_URL,
            "KEY_PREFIX": name,
        }
    return {
        "BACKEND": "kb_site.throttle_cache.ThrottleFileCache",
        "LOCATION": KB_DATA_DIR / "cache" / name,
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }


CACHES = {
    **CACHES,
    "throttle": _shared_cache("throttle"),
    "shared": _shared_cache("shared"),
}

# --- reliability ---
# A busy or unreachable database answers 503 with a clear message (kb_site/db_errors.py).
MIDDLEWARE = [*MIDDLEWARE, "kb_site.db_errors.DatabaseUnavailableMiddleware"]
# How long an SQLite write waits for another writer's lock before the 503 (seconds).
KB_SQLITE_BUSY_TIMEOUT = float(env_str("KB_SQLITE_BUSY_TIMEOUT", "20"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    import re as _re

    _sqlite_options = DATABASES["default"]["OPTIONS"]
    _sqlite_options["timeout"] = KB_SQLITE_BUSY_TIMEOUT
    _sqlite_options["init_command"] = _re.sub(
        r"busy_timeout=\d+",
        f"busy_timeout={int(KB_SQLITE_BUSY_TIMEOUT * 1000)}",
        _sqlite_options["init_command"],
    )

# --- Reports, rollups and retention (feedback/rollups.py, feedback/reports.py) ---
# Raw events older than this many days are deleted by `manage.py events_purge`, after
# their days have been rolled up (the rollups are kept).
KB_EVENT_RETENTION_DAYS = int(env_str("KB_EVENT_RETENTION_DAYS", "180"))
# An article not reviewed for this many days (or never) is listed as stale.
KB_STALE_AFTER_DAYS = int(env_str("KB_STALE_AFTER_DAYS", "180"))
# Live figures (today, yesterday) are recomputed from raw events at most this often.
KB_ROLLUP_LIVE_CACHE_SECONDS = int(env_str("KB_ROLLUP_LIVE_CACHE_SECONDS", "60"))
