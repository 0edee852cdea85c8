"""Kontor settings: everything comes from environment variables with safe defaults.

The embedded default is SQLite in WAL mode at ``var/kontor.sqlite3``; ``DATABASE_URL``
switches to PostgreSQL. The secret key is generated on first run and kept under ``var/``.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("KONTOR_VAR_DIR", BASE_DIR.parent / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """The key from KONTOR_SECRET_KEY, else one generated once and kept in var/secret_key."""
    if key := os.environ.get("KONTOR_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        # O_EXCL: two processes starting at once must agree on one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("KONTOR_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("KONTOR_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("KONTOR_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    # Listed so /api/v1/docs serves Swagger UI from ninja's own static files, not a CDN.
    "ninja",
    "axes",
    "django_tasks",
    "django_tasks_db",
    # The RQ backend's queues (no tables of its own); installed whichever backend runs.
    "django_rq",
    "kontor.core",
    "kontor.accounts",
    "kontor.contacts",
    "kontor.activities",
    "kontor.calendar",
    "kontor.sales",
    "kontor.catalog",
    "kontor.objects",
    "kontor.documents",
    "kontor.dedup",
    "kontor.imports",
    "kontor.savedviews",
    "kontor.modules",
    "kontor.dashboards",
    "kontor.web",
    "kontor.backups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kontor.accounts.middleware.UserLanguageMiddleware",
    "kontor.core.middleware.NoStoreWhenAuthenticatedMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kontor.core.middleware.RequestContextMiddleware",
    "kontor.objects.middleware.CustomTypesMiddleware",
    "kontor.modules.middleware.ModulesMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kontor.urls"
ASGI_APPLICATION = "kontor.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    }
]

# Empty counts as unset (``DATABASE_URL= kontor serve``): the embedded default.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'kontor.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    KONTOR_SQLITE_MMAP_BYTES = int(os.environ.get("KONTOR_SQLITE_MMAP_MB", "4096")) * 1024 * 1024
    # Django's backend with a pool of idle connections (kontor/core/sqlite/base.py): under
    # ASGI a request cannot keep its connection (CONN_MAX_AGE 0), the next one reuses it.
    DATABASES["default"]["ENGINE"] = "kontor.core.sqlite"
    # Tests in memory, as Django does for its own SQLite engine (pytest-django recognises
    # that engine by name only, and would otherwise name a file per test worker).
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: a writer takes the lock at BEGIN, so two writers queue on the
        # busy timeout instead of failing with "database is locked" mid-transaction.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # mmap_size: pages are read from the OS cache in place instead of copied in; it
        # is address space, not memory (64-bit), and SQLite caps it at its build's limit
        # (2 GB for Debian's). At a million people reads beyond 256 MB took twice as
        # long (docs/benchmarks.md). KONTOR_SQLITE_MMAP_MB=0 turns it off.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536; "
            f"PRAGMA mmap_size={KONTOR_SQLITE_MMAP_BYTES};"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
KONTOR_DEPARTMENT_MODEL = "accounts.Department"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kontor.accounts.backends.UserBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one email or
# one IP, further attempts get 429 until the cool-off passes. Failures are rows in the
# database (axes' default handler), so every server process counts the same ones; the
# email is counted normalised, as the login matches it. Wrong current passwords when
# changing one's own password count under the same limit (kontor.accounts.throttle).
AXES_FAILURE_LIMIT = int(os.environ.get("KONTOR_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("KONTOR_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "kontor.accounts.throttle.login_username"
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_LOCKOUT_CALLABLE = "kontor.accounts.throttle.login_lockout"  # adds Retry-After
AXES_VERBOSE = False
AXES_ENABLED = _env_bool("KONTOR_LOGIN_THROTTLE", True)

# Reset links mailed, per user (every channel) and per client IP (forgot password), in any
# hour: counted in the database like password guesses (kontor.accounts.throttle).
KONTOR_RESET_MAIL_LIMIT = int(os.environ.get("KONTOR_RESET_MAIL_LIMIT", "3"))
KONTOR_RESET_MAIL_IP_LIMIT = int(os.environ.get("KONTOR_RESET_MAIL_IP_LIMIT", "10"))

# Mail (password reset links). The default writes each mail to a file in <var>/mail, so a
# laptop install works without a mail server; "smtp" sends through KONTOR_EMAIL_HOST.
EMAIL_BACKENDS = {
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
_email_backend = os.environ.get("KONTOR_EMAIL_BACKEND") or "file"
EMAIL_BACKEND = EMAIL_BACKENDS.get(_email_backend, _email_backend)
EMAIL_FILE_PATH = Path(os.environ.get("KONTOR_EMAIL_FILE_PATH", VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("KONTOR_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("KONTOR_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("KONTOR_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KONTOR_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("KONTOR_EMAIL_STARTTLS", False)
EMAIL_USE_SSL = _env_bool("KONTOR_EMAIL_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("KONTOR_EMAIL_FROM", "kontor@localhost")
# A reset link works for this long, and only until the password changes.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("KONTOR_PASSWORD_RESET_HOURS", "24")) * 60 * 60

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Behind TLS (KONTOR_HTTPS=1): cookies only over HTTPS, HSTS, and the proxy's
# X-Forwarded-Proto trusted to say a request came in over HTTPS. The proxy must set
# that header itself (never pass on the client's), and Kontor's port must be reachable
# only through it: docs/configuration.md.
KONTOR_HTTPS = _env_bool("KONTOR_HTTPS", False)
if KONTOR_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("KONTOR_HSTS_SECONDS", str(365 * 24 * 60 * 60)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("KONTOR_HSTS_SUBDOMAINS", False)
    SECURE_SSL_REDIRECT = _env_bool("KONTOR_HTTPS_REDIRECT", False)

# Content-Security-Policy (django-csp): scripts, styles, images, fonts and requests only
# from Kontor itself; no inline script or style, no eval (htmx's eval features are off in
# web/base.html's htmx-config). /api/v1/docs (ninja's Swagger UI) passes it as it is.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language a user picks (set_language) is kept for a year, not just the browser session;
# without a choice, the browser's Accept-Language decides, then LANGUAGE_CODE.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = os.environ.get("KONTOR_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# whitenoise warns on every start while the folder is missing (before any collectstatic).
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(os.environ.get("KONTOR_MEDIA_DIR", VAR_DIR / "media")))},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Front-end libraries from npm (package.json, installed by `npm ci`): kontor.web.npm serves
# the named built files at static/vendor/<path under node_modules>.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "kontor.web.npm.NpmFinder",
]
KONTOR_NODE_MODULES = Path(os.environ.get("KONTOR_NODE_MODULES", BASE_DIR.parent / "node_modules"))
KONTOR_NPM_STATIC_FILES = ["chart.js/dist/chart.umd.min.js"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
KONTOR_MAX_ATTACHMENT_BYTES = int(os.environ.get("KONTOR_MAX_ATTACHMENT_MB", "25")) * 1024 * 1024

# Domain events (kontor.core.events): how the outbox dispatcher retries a failing handler
# (exponential backoff from the first delay up to the cap, then "failed") and how long a
# claimed delivery stays its own before another dispatcher may take it over.
KONTOR_EVENTS_MAX_ATTEMPTS = int(os.environ.get("KONTOR_EVENTS_MAX_ATTEMPTS", "10"))
KONTOR_EVENTS_RETRY_SECONDS = float(os.environ.get("KONTOR_EVENTS_RETRY_SECONDS", "10"))
KONTOR_EVENTS_RETRY_CAP_SECONDS = float(os.environ.get("KONTOR_EVENTS_RETRY_CAP_SECONDS", "3600"))
KONTOR_EVENTS_LEASE_SECONDS = float(os.environ.get("KONTOR_EVENTS_LEASE_SECONDS", "300"))
KONTOR_EVENTS_POLL_SECONDS = float(os.environ.get("KONTOR_EVENTS_POLL_SECONDS", "1"))
# An unread notification is mailed after this many minutes (0: at once).
KONTOR_NOTIFICATION_EMAIL_MINUTES = float(os.environ.get("KONTOR_NOTIFICATION_EMAIL_MINUTES", "10"))
# Where users open Kontor: the start of links in mails.
KONTOR_PUBLIC_URL = os.environ.get("KONTOR_PUBLIC_URL", "http://127.0.0.1:8000")
# The live bell: how often an open page's stream looks for news, and how long one lasts.
# Clients' important dates: notified this many days ahead, swept daily at this hour.
KONTOR_DATE_REMINDER_DAYS = int(os.environ.get("KONTOR_DATE_REMINDER_DAYS", "3"))
KONTOR_DATE_REMINDER_HOUR = int(os.environ.get("KONTOR_DATE_REMINDER_HOUR", "8"))
KONTOR_LIVE_POLL_SECONDS = float(os.environ.get("KONTOR_LIVE_POLL_SECONDS", "2"))
KONTOR_LIVE_STREAM_SECONDS = float(os.environ.get("KONTOR_LIVE_STREAM_SECONDS", "300"))
KONTOR_TIMERS_LEASE_SECONDS = float(os.environ.get("KONTOR_TIMERS_LEASE_SECONDS", "30"))
KONTOR_EVENTS_KEEP_DAYS = float(os.environ.get("KONTOR_EVENTS_KEEP_DAYS", "30"))

# Background jobs (django-tasks, kontor.core.jobs): "database" keeps them in this
# database, run by every dispatcher pass (kontor worker, the thread in kontor serve);
# "rq" puts them, and the firing of due timers, on Redis queues that `kontor worker`
# processes share (docs/scaling.md).
KONTOR_TASKS_BACKEND = os.environ.get("KONTOR_TASKS_BACKEND", "database")
KONTOR_REDIS_URL = os.environ.get("KONTOR_REDIS_URL", "redis://127.0.0.1:6379/0")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
}
if KONTOR_TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"KONTOR_TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, "
        f"not {KONTOR_TASKS_BACKEND!r}."
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[KONTOR_TASKS_BACKEND], "QUEUES": ["default"]}}
RQ_QUEUES = {"default": {"URL": KONTOR_REDIS_URL}}
# Timer batches an RQ queue may hold ahead of its workers: claimed sooner, a batch's lease
# could lapse while it waits (it would then be claimed and queued again, fired once).
KONTOR_TIMERS_QUEUED_BATCHES = int(os.environ.get("KONTOR_TIMERS_QUEUED_BATCHES", "8"))

# A running import renews its claim with each batch; once it lapses (the process that ran
# it died) a worker resumes the import after its last written line, up to the attempts.
KONTOR_IMPORT_LEASE_SECONDS = float(os.environ.get("KONTOR_IMPORT_LEASE_SECONDS", "120"))
KONTOR_IMPORT_ATTEMPTS = int(os.environ.get("KONTOR_IMPORT_ATTEMPTS", "5"))
# A second core cleans part of each batch of a bulk import in a forked helper process
# (kontor.core.forked): batches of at least KONTOR_IMPORT_HELPER_MIN_ROWS rows, and an
# answer within KONTOR_IMPORT_HELPER_SECONDS, else the importer cleans them itself.
KONTOR_IMPORT_HELPER = _env_bool("KONTOR_IMPORT_HELPER", True)
KONTOR_IMPORT_HELPER_MIN_ROWS = int(os.environ.get("KONTOR_IMPORT_HELPER_MIN_ROWS", "1000"))
KONTOR_IMPORT_HELPER_SECONDS = float(os.environ.get("KONTOR_IMPORT_HELPER_SECONDS", "30"))
# No helper while the importer's own private memory is above this many MB: a helper
# keeps up to ~140 MB of its own, and an import's peak is to stay within 400 MB.
KONTOR_IMPORT_HELPER_MAX_MB = float(os.environ.get("KONTOR_IMPORT_HELPER_MAX_MB", "256"))

# Backups (kontor.backups, docs/configuration.md): the worker writes one every
# KONTOR_BACKUP_INTERVAL_HOURS into KONTOR_BACKUP_DIR and keeps the newest KONTOR_BACKUP_KEEP;
# every KONTOR_BACKUP_DRILL_HOURS it restores the newest into a scratch database to prove
# it. An interval of 0 turns that schedule off.
KONTOR_BACKUP_DIR = Path(os.environ.get("KONTOR_BACKUP_DIR", VAR_DIR / "backups"))
KONTOR_BACKUP_INTERVAL_HOURS = float(os.environ.get("KONTOR_BACKUP_INTERVAL_HOURS", "24"))
KONTOR_BACKUP_KEEP = int(os.environ.get("KONTOR_BACKUP_KEEP", "7"))
KONTOR_BACKUP_DRILL_HOURS = float(os.environ.get("KONTOR_BACKUP_DRILL_HOURS", "24"))

# Phones typed without a country code are read in this region (ISO 3166 alpha-2).
KONTOR_PHONE_REGION = os.environ.get("KONTOR_PHONE_REGION", "RU")

# Two names scoring this much or more (rapidfuzz token sort ratio, 0-100) are offered as
# possible duplicates (kontor.dedup.finder).
KONTOR_DEDUP_NAME_SCORE = int(os.environ.get("KONTOR_DEDUP_NAME_SCORE", "88"))

# Money (kontor.core.money): the ISO 4217 codes documents and amounts may use, and the one
# a new amount takes. A wrong list stops the start, not the first quote.
KONTOR_CURRENCIES = [
    code.strip().upper()
    for code in os.environ.get("KONTOR_CURRENCIES", "EUR,USD,RUB,GBP,CHF").split(",")
    if code.strip()
]
KONTOR_DEFAULT_CURRENCY = os.environ.get("KONTOR_DEFAULT_CURRENCY", "EUR").strip().upper()
if not KONTOR_CURRENCIES or not all(
    len(code) == 3 and code.isascii() and code.isalpha() for code in KONTOR_CURRENCIES
):
    raise ImproperlyConfigured(
        "KONTOR_CURRENCIES must be comma-separated three-letter ISO 4217 codes, "
        f"not {os.environ.get('KONTOR_CURRENCIES')!r}."
    )
if KONTOR_DEFAULT_CURRENCY not in KONTOR_CURRENCIES:
    raise ImproperlyConfigured(
        f"KONTOR_DEFAULT_CURRENCY {KONTOR_DEFAULT_CURRENCY!r} is not one of KONTOR_CURRENCIES "
        f"({', '.join(KONTOR_CURRENCIES)})."
    )
# Documents rendered to PDF (kontor.documents.pdf) use this TrueType font family, which
# must cover Latin and Cyrillic: the folder holding DejaVuSans.ttf and DejaVuSans-Bold.ttf
# (Debian's fonts-dejavu-core).
KONTOR_PDF_FONT_DIR = Path(
    os.environ.get("KONTOR_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu")
)
# The company logo on documents: PNG or JPEG up to this size.
KONTOR_LOGO_MAX_BYTES = int(os.environ.get("KONTOR_LOGO_MAX_KB", "512")) * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KONTOR_LOG_LEVEL", "WARNING")},
}

# Currencies a price or a document may be in (ISO 4217 codes; KONTOR_CURRENCIES="EUR,USD"
# narrows or widens the list), and the one a new price is in unless another is chosen.
KONTOR_CURRENCIES = [
    code.strip().upper()
    for code in os.environ.get("KONTOR_CURRENCIES", "EUR,USD,RUB,GBP,CHF").split(",")
    if code.strip()
]
KONTOR_DEFAULT_CURRENCY = os.environ.get("KONTOR_DEFAULT_CURRENCY", "EUR").strip().upper()
