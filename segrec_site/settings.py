"""segrec settings, read from the environment with laptop-safe defaults.

Production sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis); with neither set
the app runs on an SQLite file and an embedded file-system broker, so no server is needed.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SEGREC_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A public fallback key would let anyone forge sessions and password-reset links.
        raise ImproperlyConfigured(
            "SECRET_KEY is not set and DEBUG is false: set SECRET_KEY to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
if not DEBUG:
    # Production is served over HTTPS (`check --deploy` is clean with these); behind a proxy
    # that terminates TLS set SEGREC_PROXY_SSL_HEADER=1 so Django trusts X-Forwarded-Proto.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SEGREC_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SEGREC_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SEGREC_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SEGREC_HSTS_PRELOAD", True)
    if env_bool("SEGREC_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "catalog",
    "segments",
    "web",
]

MIDDLEWARE = [
    # First, so every error under /api/ (a 404 from the URL resolver too) leaves as JSON.
    "web.middleware.ApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "segrec_site.urls"
WSGI_APPLICATION = "segrec_site.wsgi.application"

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
            ],
        },
    },
]

SQLITE_URL = f"sqlite:///{VAR_DIR / 'segrec.sqlite3'}"
DATABASES = {
    # Connections are kept between requests (no connect per request) and checked before
    # reuse, so one the database dropped meanwhile is replaced, not served as an error.
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or SQLITE_URL,
        conn_max_age=int(os.environ.get("SEGREC_DB_CONN_MAX_AGE", 60)),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web process read while the worker writes progress and results.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# Login lockout (django-axes, for the login page and the admin's): after
# SEGREC_LOGIN_FAILURE_LIMIT wrong passwords for one username from one IP address, that pair
# is refused for SEGREC_LOGIN_COOLOFF_MINUTES, the right password too. Attempts are kept in
# the database, so every web process sees them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("SEGREC_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SEGREC_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failed login, for the admin's audit page
AXES_LOCKOUT_CALLABLE = "web.lockout.lockout_response"

# The cache holds the API's throttle counters. Without SEGREC_CACHE_URL it is per process
# (LocMemCache): each web process then counts on its own, so N processes allow N times the
# rates below. Set SEGREC_CACHE_URL=redis://host:6379/1 to share one count.
SEGREC_CACHE_URL = os.environ.get("SEGREC_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": SEGREC_CACHE_URL}
        if SEGREC_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "web.api.throttling.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "web.api.handlers.json_exception_handler",
    # Anonymous requests and failed token attempts (per IP) are held to a low rate so tokens
    # cannot be guessed; signed-in users get a generous one. "N/second|minute|hour|day".
    "DEFAULT_THROTTLE_CLASSES": [
        "web.api.throttling.AnonThrottle",
        "web.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("SEGREC_API_ANON_RATE", "20/minute"),
        "user": os.environ.get("SEGREC_API_USER_RATE", "600/minute"),
        "token_failures": os.environ.get("SEGREC_API_TOKEN_FAILURE_RATE", "10/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "segrec API",
    "DESCRIPTION": "Segments of members and their recommendation lists.",
    "VERSION": "1.0.0",
}

# Celery. No CELERY_BROKER_URL means the laptop default: an embedded file-system broker
# under var/broker (no server), and run_segmentation executes in its own process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
SEGREC_EMBEDDED_BROKER = not CELERY_BROKER_URL
if SEGREC_EMBEDDED_BROKER:
    BROKER_DIR = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
# How runs survive crashes (README "Reliability"). The run's state lives in the database;
# the broker only carries "start run N". A worker acknowledges the message when the run ends
# (acks_late), and a message whose worker process died is put back (reject_on_worker_lost);
# the attempt counter in the run row stops a run that kills its worker from looping: after
# SEGREC_RUN_MAX_ATTEMPTS claims the sweep fails it. One message at a time per worker process
# (prefetch 1): runs are long, and a prefetched message would wait behind one.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A run past the soft limit fails cleanly (recorded, rows removed); the hard limit kills a run
# stuck in C code five minutes later, and the sweep then records it.
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("SEGREC_RUN_SOFT_TIME_LIMIT", 6 * 3600))
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 300
if not SEGREC_EMBEDDED_BROKER:
    # Redis redelivers an unacknowledged message after the visibility timeout: it must exceed
    # the longest run, or a second worker would start a run that is still going. Lost workers
    # are found by the lease below, within minutes, not by this.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 3600}
# A broker restart must not cancel a running run: it is tracked in the database, and its
# message (lost with a non-persistent Redis) is no longer needed once it is claimed.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# segrec itself.
# A running run's worker renews its lease every quarter of SEGREC_RUN_LEASE_SECONDS; the
# sweep (each worker, every SEGREC_RUN_SWEEP_SECONDS, and `manage.py sweep_runs`) queues a
# run whose lease lapsed again, or fails it after SEGREC_RUN_MAX_ATTEMPTS, and re-sends
# queued runs not sent for SEGREC_RUN_RESEND_SECONDS (a broker restart loses them).
SEGREC_RUN_LEASE_SECONDS = float(os.environ.get("SEGREC_RUN_LEASE_SECONDS", 120))
SEGREC_RUN_MAX_ATTEMPTS = int(os.environ.get("SEGREC_RUN_MAX_ATTEMPTS", 2))
SEGREC_RUN_SWEEP_SECONDS = float(os.environ.get("SEGREC_RUN_SWEEP_SECONDS", 30))
SEGREC_RUN_RESEND_SECONDS = float(os.environ.get("SEGREC_RUN_RESEND_SECONDS", 300))
SEGREC_TEXT_MODEL = os.environ.get("SEGREC_TEXT_MODEL", "all-MiniLM-L6-v2")
SEGREC_DEVICE = os.environ.get("SEGREC_DEVICE", "auto")
SEGREC_EMBED_BATCH_SIZE = int(os.environ.get("SEGREC_EMBED_BATCH_SIZE", 128))
# "auto": bf16 on a CPU / fp16 on a GPU where a probe at model load shows it faster and
# within cosine 0.9999 of fp32, else fp32; or force "fp32", "bf16", "fp16".
SEGREC_EMBED_PRECISION = os.environ.get("SEGREC_EMBED_PRECISION", "auto")
SEGREC_DATA_DIR = Path(os.environ.get("SEGREC_DATA_DIR", VAR_DIR / "data"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "segrec": {"handlers": ["console"], "level": os.environ.get("SEGREC_LOG_LEVEL", "INFO")}
    },
}
