"""VoC settings, read from the environment.

One module for every deployment. ``VOC_ENV=production`` switches to production mode, which
requires ``SECRET_KEY`` and ``ALLOWED_HOSTS`` and turns on the HTTPS settings. Without any
variables the platform runs on embedded defaults: a SQLite file, kombu's filesystem broker and a
database outbox for email, so a bare machine needs no PostgreSQL, Redis or mail server.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

# Lets Django's generic classes take their type at run time too (``admin.ModelAdmin[Contact]``).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


VOC_ENV = env("VOC_ENV", "development")
if VOC_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("VOC_ENV must be 'development' or 'production'")
PRODUCTION = VOC_ENV == "production"

# Runtime files of the embedded defaults (SQLite file, filesystem broker) live here.
VAR_DIR = Path(env("VOC_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when VOC_ENV=production")
    SECRET_KEY = "development-only-insecure-key-do-not-use-in-production"  # noqa: S105

DEBUG = False if PRODUCTION else env_bool("DEBUG", True)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1]")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when VOC_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

SITE_NAME = env("VOC_SITE_NAME", "VoC")
COMPANY_NAME = env("VOC_COMPANY_NAME", "Northwind Telecom")

INSTALLED_APPS = [
    "voc.people.admin_site.VocAdminConfig",  # django.contrib.admin, admin role only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "anymail",
    "axes",
    "csp",
    # VoC, in dependency order: people <- contacts <- feedback <- loops <- dashboards.
    "voc.core",
    "voc.people",
    "contacts",
    "feedback",
    "loops",
    "voc.dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "voc.core.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "voc.urls"
WSGI_APPLICATION = "voc.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "voc.people.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'voc.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock when a
        # transaction starts, so web, worker and beat queue for it instead of failing with
        # "database is locked" half-way through.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# A read replica for the dashboards (docs/SCALING.md): only when its URL is given. Tests use
# the primary's test database for it (TEST MIRROR); on PostgreSQL its sessions are read-only,
# so a write routed there by mistake fails instead of landing on a copy.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"]["OPTIONS"] = {"options": "-c default_transaction_read_only=on"}
DATABASE_ROUTERS = ["voc.core.db_routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -----------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL") or REDIS_URL or "filesystem://localhost//"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker: messages are files in one folder that web, worker and beat share.
    # It deletes a message when a worker fetches it, so acks_late gives no redelivery here.
    BROKER_DIR = VAR_DIR / "broker"
    for folder in ("queue", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # An unacknowledged task is redelivered after this long: no task may run (or wait) longer.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = None  # no result backend, so no nightly celery.backend_cleanup
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Email ----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", f"VoC <voc@{env('VOC_MAIL_DOMAIN', 'example.com')}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_ESP = (env("VOC_EMAIL_ESP") or ("smtp" if PRODUCTION else "")).lower()


def _anymail_value(value: str):
    return {"true": True, "false": False}.get(value.strip().lower(), value)


# ANYMAIL_<SETTING> (or ANYMAIL_<SETTING>_FILE) variables become django-anymail's settings.
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): _anymail_value(env_secret(name))
    for name in {key.removesuffix("_FILE") for key in os.environ if key.startswith("ANYMAIL_")}
}
if EMAIL_ESP == "smtp":
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
    EMAIL_TIMEOUT = 30
elif EMAIL_ESP:
    # Any ESP django-anymail supports: VOC_EMAIL_ESP=mailgun, postmark, amazon_ses, ...
    # with its credentials as ANYMAIL_<SETTING> variables (ANYMAIL_MAILGUN_API_KEY, ...).
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_ESP}.EmailBackend"
else:
    EMAIL_BACKEND = "voc.core.mail.OutboxBackend"
EMAIL_BACKEND = env("EMAIL_BACKEND", EMAIL_BACKEND)
# The /outbox/ page shows mail stored by the outbox backend, password-reset links included:
# never in production.
OUTBOX_ENABLED = not PRODUCTION and EMAIL_BACKEND == "voc.core.mail.OutboxBackend"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "people.User"
# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "voc.people.backends.RoleModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
# Sign-in throttling (django-axes, on the sign-in page and the Django admin's): 10 failures
# lock that username from that address for 15 minutes. Never an address alone (reps share an
# office's address) and never for good; an admin unlocks early by deleting the entry under
# *Axes › Access attempts*, or with `manage.py axes_reset_username <username>`.
AXES_FAILURE_LIMIT = env_int("VOC_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("VOC_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Tries during a lock don't extend it: it lifts 15 minutes after the tenth failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "voc.people.throttling.client_ip"
# Reverse proxies in front of VoC that append to X-Forwarded-For (0: use REMOTE_ADDR).
VOC_TRUSTED_PROXIES = env_int("VOC_TRUSTED_PROXIES", 0)
# Password reset emails asked for per address, and per client address, in one hour.
VOC_PASSWORD_RESETS_PER_ADDRESS = env_int("VOC_PASSWORD_RESETS_PER_ADDRESS", 3)
VOC_PASSWORD_RESETS_PER_IP = env_int("VOC_PASSWORD_RESETS_PER_IP", 20)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18N and static ------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "voc.people.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["voc.core.permissions.IsActiveUser"],
    "DEFAULT_PAGINATION_CLASS": "voc.core.api.StrictLimitOffsetPagination",
    # The API speaks JSON (the bulk endpoint adds NDJSON): no form or multipart bodies.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
    "EXCEPTION_HANDLER": "voc.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token_create": "20/hour"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "VoC API",
    "DESCRIPTION": "Contacts, feedback and the loops that fix their causes. "
    "Authenticate with a personal API token: `Authorization: Token <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["voc.core.permissions.IsActiveUser"],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No call to the public validator (its badge is an image from elsewhere, and it would be
    # sent the schema's URL).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models name their choices "Kind": each gets its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "SessionNoteKindEnum": "feedback.models.SessionNote.Kind",
        "FeedbackItemKindEnum": "feedback.models.FeedbackItem.Kind",
        "GestureKindEnum": "contacts.models.Gesture.Kind",
        "FollowUpOutcomeEnum": "loops.models.FollowUp.Outcome",
        "ContactOutcomeEnum": "contacts.models.Contact.Outcome",
        "IssueStatusEnum": "loops.models.Issue.Status",
        "FixNoticeStatusEnum": "loops.models.FixNotice.Status",
    },
}

# --- Security -------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp 4): scripts and styles only from VoC's own static files,
# no inline script, no eval, nothing loaded from elsewhere. Pages keep their scripts in
# static/js/; the API docs page loads its start-up script from a URL of its own
# (drf-spectacular's split Swagger view) and its styles from static/css/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features VoC never uses, turned off for its pages (and anything they might embed).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "midi", "payment", "usb", "browsing-topics",
    )
}  # fmt: skip
if PRODUCTION:
    # VOC_ALLOW_HTTP=1 is for a local docker-compose stack on http://localhost only; it turns
    # off the HTTPS-only settings, and `check --deploy` says so.
    _https = not env_bool("VOC_ALLOW_HTTP")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _https
    SESSION_COOKIE_SECURE = _https
    CSRF_COOKIE_SECURE = _https
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if _https else 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
    SECURE_HSTS_PRELOAD = _https
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]

# --- VoC ------------------------------------------------------------------------------------
# How long run records of periodic jobs are kept.
JOB_RUN_RETENTION = timedelta(days=env_int("VOC_JOB_RUN_RETENTION_DAYS", 30))
OUTBOX_RETENTION = timedelta(days=env_int("VOC_OUTBOX_RETENTION_DAYS", 30))
# Contacts: a contact within this many days of the customer's previous one is a repeat.
VOC_REPEAT_WINDOW_DAYS = env_int("VOC_REPEAT_WINDOW_DAYS", 7)
# Rollup days are calendar days in this time zone.
VOC_REPORTING_TIME_ZONE = env("VOC_REPORTING_TIME_ZONE", TIME_ZONE)
# Where people reach VoC: links in emails sent by jobs (no request to take the host from).
VOC_BASE_URL = env("VOC_BASE_URL", "http://localhost:8000").rstrip("/")
# Phone numbers without a country code are read as numbers of this region.
VOC_PHONE_REGION = env("VOC_PHONE_REGION", "US")
# A contact whose sentiment (VADER compound, -1..1) is at or below this counts as negative.
VOC_NEGATIVE_SENTIMENT = float(env("VOC_NEGATIVE_SENTIMENT", "-0.05"))
# Bulk ingest API: requests per ingest token, and the largest request body.
VOC_INGEST_RATE = env("VOC_INGEST_RATE", "120/minute")
VOC_BULK_MAX_BYTES = env_int("VOC_BULK_MAX_BYTES", 100 * 1024 * 1024)
# Customer erasure: tombstones hold HMACs made with this key, so they stop an erased person's
# email, phone or contacts from coming back without storing them. Set it once and keep it: a new
# key makes old tombstones unrecognisable. Falls back to SECRET_KEY.
VOC_ERASURE_KEY = env_secret("VOC_ERASURE_KEY") or SECRET_KEY
# Inbound email (docs/inbound-email.md). The webhooks also need ANYMAIL_WEBHOOK_SECRET
# ("user:password", the basic auth every provider sends) and the provider's own key where it
# signs (ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY, ...). Amazon SES: the SNS topics accepted.
VOC_SES_TOPIC_ARNS = env_list("VOC_SES_TOPIC_ARNS")
# Mailgun: a signature whose timestamp is further than this many seconds from now is refused.
VOC_INBOUND_SIGNATURE_MAX_AGE = env_int("VOC_INBOUND_SIGNATURE_MAX_AGE", 300)
VOC_INBOUND_MAX_REQUEST_BYTES = env_int("VOC_INBOUND_MAX_REQUEST_BYTES", 25 * 1024 * 1024)
VOC_INBOUND_MAX_HEADER_BYTES = env_int("VOC_INBOUND_MAX_HEADER_BYTES", 256 * 1024)
VOC_INBOUND_MAX_BODY_CHARS = env_int("VOC_INBOUND_MAX_BODY_CHARS", 500_000)
# A provider's spam score at or above this marks the email as spam (when it gives a score).
VOC_INBOUND_SPAM_SCORE = float(env("VOC_INBOUND_SPAM_SCORE", "5.0"))
# A reply whose references VoC never saw joins the customer's contact with the same subject
# from at most this many days before.
VOC_INBOUND_THREAD_WINDOW_DAYS = env_int("VOC_INBOUND_THREAD_WINDOW_DAYS", 14)
# The dashboard's panel cache (voc/dashboards/cache.py): figures kept until new data comes in,
# never served older than a minute. ?cache=off on a request skips it.
VOC_DASHBOARD_CACHE = env_bool("VOC_DASHBOARD_CACHE", True)
DEMO_PASSWORD = "voc-demo-2026"  # noqa: S105  (documented in the README; demo data only)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
