"""Throughline's own settings: plugs, the journal's reactions, each channel and each app.

Each block names the doc that explains its settings (README.md, "Settings", lists them all).
"""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.settings.runtime import (
    CELERY_BEAT_SCHEDULE,
    DATABASES,
    DEVELOPMENT,
    LOGGING,
    STATE_DIR,
    TESTING,
    env,
)

# Phones written without a country code are read as numbers of this region (ISO 3166 code).
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="US")

# ---- Plugs (base/plugins.py; README, "Plugs")
# Apps declare what they plug in on their AppConfig (`plugs`); these settings only switch.
# Unset: what the installed apps declare, in INSTALLED_APPS order. Set: exactly that
# (comma-separated dotted paths; "channel=dotted.path" pairs for the two keyed by channel),
# so an empty value switches every one off and a reordered list reorders.
THROUGHLINE_EVENT_HOOKS = env.plugs("THROUGHLINE_EVENT_HOOKS")
THROUGHLINE_EVENT_REACTIONS = env.plugs("THROUGHLINE_EVENT_REACTIONS")
THROUGHLINE_MERGE_HOOKS = env.plugs("THROUGHLINE_MERGE_HOOKS")
THROUGHLINE_SPLIT_HOOKS = env.plugs("THROUGHLINE_SPLIT_HOOKS")
THROUGHLINE_VISITOR_HOOKS = env.plugs("THROUGHLINE_VISITOR_HOOKS")
THROUGHLINE_CONTEXT_PROVIDERS = env.plugs("THROUGHLINE_CONTEXT_PROVIDERS")
THROUGHLINE_HEADLINE_PARTS = env.plugs("THROUGHLINE_HEADLINE_PARTS")
THROUGHLINE_SUGGESTION_RANKERS = env.plugs("THROUGHLINE_SUGGESTION_RANKERS")
THROUGHLINE_MANAGER_PERMISSIONS = env.plugs("THROUGHLINE_MANAGER_PERMISSIONS")
ENGAGEMENT_GATES = env.plugs("ENGAGEMENT_GATES")
PRIVACY_ERASURE_HOOKS = env.plugs("PRIVACY_ERASURE_HOOKS")
PRIVACY_EXPORT_HOOKS = env.plugs("PRIVACY_EXPORT_HOOKS")
THROUGHLINE_CONSENT_HOOKS = env.plugs("THROUGHLINE_CONSENT_HOOKS")
THROUGHLINE_SUPPRESSION_CHECKS = env.plugs("THROUGHLINE_SUPPRESSION_CHECKS")
WIDGET_PRESENCE_HOOKS = env.plugs("WIDGET_PRESENCE_HOOKS")
VOICE_MISSED_CALL_HOOKS = env.plugs("VOICE_MISSED_CALL_HOOKS")
THROUGHLINE_SEND_CHECKS = env.plugs("THROUGHLINE_SEND_CHECKS")
THROUGHLINE_SENDERS = env.plugs("THROUGHLINE_SENDERS", keyed=True)
THROUGHLINE_REPLY_VERBS = env.plugs("THROUGHLINE_REPLY_VERBS", keyed=True)
# One implementation each, not a list apps add to, so plain settings naming it (as
# ROUTING_ARBITER and WIDGET_OFFER_HANDLER do); empty switches the feature off. What
# voice asks about business hours (number called -> {"open", "description"} or None);
# what "Call back" rings with; what "Schedule a call back" books with (empty hides it).
THROUGHLINE_BUSINESS_HOURS = env(
    "THROUGHLINE_BUSINESS_HOURS", default="channels_adapters.numbers.hours.for_number"
)
THROUGHLINE_CALL_BACK = env(
    "THROUGHLINE_CALL_BACK", default="channels_adapters.voice.outbound.call_back"
)
THROUGHLINE_SCHEDULE_CALL_BACK = env(
    "THROUGHLINE_SCHEDULE_CALL_BACK", default="routing.callbacks.schedule_call_back"
)
# ---- end Plugs

# ---- The journal's partitions (ADR 0009, conversations/partitions.py)
# The events table is partitioned by range of id: this many ids per partition, and this
# many ranges past the next id are made ahead by an hourly task (`manage.py
# journal_partitions`); ids nobody made a range for go to the default partition.
THROUGHLINE_JOURNAL_PARTITION_SIZE = env.int(
    "THROUGHLINE_JOURNAL_PARTITION_SIZE", default=10_000_000
)
THROUGHLINE_JOURNAL_PARTITIONS_AHEAD = env.int("THROUGHLINE_JOURNAL_PARTITIONS_AHEAD", default=2)
CELERY_BEAT_SCHEDULE["journal-partitions"] = {
    "task": "conversations.journal_partitions",
    "schedule": 60.0 * 60,  # hourly: two ranges ahead last far longer than that
}
# ---- end The journal's partitions

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
TIMELINE_PAGE_SIZE = env.int("TIMELINE_PAGE_SIZE", default=50)

# ---- SMS / Twilio
# docs/twilio.md says where each value comes from and which URLs to paste into Twilio.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")  # also checks webhook signatures
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")  # E.164; or a messaging service:
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")  # wins when set
# Where the REST client sends requests: Twilio itself, or a local fake in tests.
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="https://api.twilio.com").rstrip("/")
# Several numbers and accounts (docs/twilio.md): accounts and numbers are rows (admin,
# "Numbers and Twilio accounts"); with none, the four settings above are the one account
# and number. An account's token comes from the environment variable it names, or from
# this JSON file of {"key": "token"} (its auth_token_key); never from the database.
TWILIO_SECRETS_FILE = env("TWILIO_SECRETS_FILE", default="")
# Each process keeps the accounts and numbers it read this long; a change made in this
# process is seen at once, in the others within this time.
NUMBERS_CACHE_SECONDS = env.int("NUMBERS_CACHE_SECONDS", default=30)
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
# ---- WhatsApp through Twilio (docs/whatsapp.md): the same account and credentials as SMS.
# The shop's WhatsApp sender, E.164 without `whatsapp:` (the sandbox's is +14155238886);
# or a messaging service whose sender pool holds it (wins when set).
WHATSAPP_FROM_NUMBER = env("WHATSAPP_FROM_NUMBER", default="")
WHATSAPP_MESSAGING_SERVICE_SID = env("WHATSAPP_MESSAGING_SERVICE_SID", default="")
# As SMS_BACKEND: real Twilio when the credentials exist (a message with no WhatsApp sender
# configured then fails with that reason, rather than being printed as if sent).
WHATSAPP_BACKEND = env(
    "WHATSAPP_BACKEND",
    default="channels_adapters.whatsapp.backends.LocmemBackend"
    if TESTING
    else "channels_adapters.whatsapp.backends.TwilioBackend"
    if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN
    else "channels_adapters.whatsapp.backends.ConsoleBackend",
)
# Outside WhatsApp's 24-hour window only approved templates may be sent: the Twilio Content
# SID (HX...) of each topic's template, e.g. "cart_reminders=HX...,offers=HX...".
THROUGHLINE_WHATSAPP_TEMPLATES = env.dict("THROUGHLINE_WHATSAPP_TEMPLATES", default={})
# The answer to HELP / INFO (brand, how to stop, how to reach you); empty: no answer of ours.
SMS_HELP_TEXT = env(
    "SMS_HELP_TEXT",
    default="Reply STOP to stop these messages, START to get them again. "
    "Reply here to reach our team. Msg & data rates may apply.",
)
# Seconds after which a row still "sending" is taken for abandoned (its worker died) and
# goes to reconciliation: comfortably longer than any provider call can take.
OUTBOX_STALE_AFTER = env.int("OUTBOX_STALE_AFTER", default=max(300, int(TWILIO_HTTP_TIMEOUT * 3)))
# The REST client logs every request's URL (with the account SID) and headers at INFO.
LOGGING["loggers"]["twilio.http_client"] = {"level": "WARNING"}
CELERY_BEAT_SCHEDULE["sweep-outbox"] = {
    "task": "conversations.sweep_outbox",
    "schedule": 60.0,  # every minute: retries wait 30 s or more anyway
}
# Possible duplicates by name and postcode, and by a claim in a profile (docs/subsystems/
# identities.md): the queue is read by people, so once an hour is plenty.
CELERY_BEAT_SCHEDULE["sweep-possible-duplicates"] = {
    "task": "conversations.sweep_possible_duplicates",
    "schedule": 3600.0,
}
# ---- end SMS / Twilio

# ---- Email (docs/email.md)
# The shop's address customers write to and our mails come from.
EMAIL_FROM = env("EMAIL_FROM", default="Shop <help@localhost>")
# Like EMAIL_BACKEND: an anymail backend for the provider (anymail.backends.postmark.EmailBackend,
# anymail.backends.mailgun.EmailBackend...), else the console; locmem under pytest.
EMAIL_CHANNEL_BACKEND = env(
    "EMAIL_CHANNEL_BACKEND",
    default="channels_adapters.email.backends.LocmemBackend"
    if TESTING
    else "django.core.mail.backends.console.EmailBackend",
)
# The right-hand side of our Message-IDs: a domain of the shop's (default: EMAIL_FROM's).
EMAIL_MESSAGE_ID_DOMAIN = env(
    "EMAIL_MESSAGE_ID_DOMAIN", default=EMAIL_FROM.rpartition("@")[2].strip("> ") or "localhost"
)
# The subject of a mail that answers no mail of the customer's (a chat, a call).
EMAIL_DEFAULT_SUBJECT = env("EMAIL_DEFAULT_SUBJECT", default="Your conversation with us")
# Webhook bodies over this are refused (413); Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB
# unless raised) also caps what it reads into memory: raise both for big attachments.
EMAIL_WEBHOOK_MAX_BYTES = env.int("EMAIL_WEBHOOK_MAX_BYTES", default=10 * 1024 * 1024)
# Attachments kept (others are named in the timeline and dropped).
EMAIL_ATTACHMENT_MAX_BYTES = env.int("EMAIL_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
EMAIL_MAX_ATTACHMENTS = env.int("EMAIL_MAX_ATTACHMENTS", default=10)
EMAIL_ATTACHMENT_TYPES = env.list(
    "EMAIL_ATTACHMENT_TYPES",
    default=[
        "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic",
        "application/pdf", "text/plain", "text/csv",
    ],
)  # fmt: skip
# Where the original MIME and attachments go (Django's default storage; in production a
# volume, or an object store configured in STORAGES["default"]).
MEDIA_ROOT = env("MEDIA_ROOT", default=str(STATE_DIR / "media"))
# django-anymail: the provider's credentials and the webhooks' secrets (docs/email.md).
ANYMAIL = {
    # basic auth "user:password" in every webhook URL (Postmark's only protection)
    "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default=""),
    "POSTMARK_SERVER_TOKEN": env("POSTMARK_SERVER_TOKEN", default=""),
    "MAILGUN_API_KEY": env("MAILGUN_API_KEY", default=""),
    "MAILGUN_SENDER_DOMAIN": env("MAILGUN_SENDER_DOMAIN", default=""),
    "MAILGUN_WEBHOOK_SIGNING_KEY": env("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
}
ANYMAIL = {key: value for key, value in ANYMAIL.items() if value}
# ---- end Email

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
    "email": 10,  # POST /widget/email (the Contact us email form, docs/email.md)
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
# https://crontab.guru/every-hour
CELERY_BEAT_SCHEDULE["webchat-sweep-anonymous"] = {
    "task": "webchat.sweep_anonymous",
    "schedule": 60.0 * 60,  # hourly: each run removes at most 5,000 customers (visitors.py)
}
# ---- end Web chat widget

# ---- Commerce and REST API
# docs/api.md.
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
# docs/instore.md.
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
# ---- end Voice / Twilio

# ---- Console
# docs/console.md. The agent console in the admin: inbox, conversation page, reply box.
# Conversations per inbox page.
INBOX_PAGE_SIZE = env.int("INBOX_PAGE_SIZE", default=50)
# Login protection (django-axes; docs/console.md, "Login protection"): this many failed
# logins for one username from one client address, each within LOGIN_FAILURE_WINDOW seconds
# of the last, lock that pair out for LOGIN_FAILURE_WINDOW seconds. 0 switches it off.
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)
# Axes' backend only refuses a locked-out pair; Django's own backend checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = LOGIN_MAX_FAILURES > 0
AXES_FAILURE_LIMIT = max(LOGIN_MAX_FAILURES, 1)
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_FAILURE_WINDOW)
# The pair, not the username alone: a guesser elsewhere cannot lock a real agent out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client address the rate limits use (X-Forwarded-For only as far as
# THROUGHLINE_TRUSTED_PROXIES vouches for it), so everyone behind one proxy is not one pair.
AXES_CLIENT_IP_CALLABLE = "console.login_protection.client_address"
AXES_RESET_ON_SUCCESS = True
# Two-factor authentication (django-otp, TOTP; console/two_factor.py): on, every manager
# must set up an authenticator app before using the admin; staff who set one up are always
# asked for its code after the password. Off for the demo.
THROUGHLINE_REQUIRE_2FA_FOR_MANAGERS = env.bool(
    "THROUGHLINE_REQUIRE_2FA_FOR_MANAGERS", default=False
)
# The issuer authenticator apps show beside the account
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Throughline")
# Tries during a lockout (the right password included) are refused but not counted, so the
# lockout ends LOGIN_FAILURE_WINDOW after the failure that started it, as documented.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# No table of every successful login (usernames and addresses kept for ever); the
# attempts that count are deleted once their window has passed.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_TEMPLATE = "console/login_locked_out.html"
# No banner at every process's start; failures and lockouts are still logged, with the
# username and the address masked (AXES_SENSITIVE_PARAMETERS' default).
AXES_VERBOSE = False
# ---- end Console

# ---- Privacy
# docs/privacy.md.
# Days message bodies, media references, recordings and transcripts are kept; an hourly
# sweep redacts older ones (the events stay, so the figures do). 0 keeps them for ever.
PRIVACY_RETENTION_DAYS = env.int("PRIVACY_RETENTION_DAYS", default=365)
# Days the events themselves are kept: the same sweep drops whole journal partitions whose
# newest event is older (ADR 0009). 0 (the default) keeps them, redacted, for ever, and
# every figure with them.
PRIVACY_EVENT_RETENTION_DAYS = env.int("PRIVACY_EVENT_RETENTION_DAYS", default=0)
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
CELERY_BEAT_SCHEDULE["privacy-redact-expired"] = {
    "task": "privacy.redact_expired",
    "schedule": 60.0 * 60,  # hourly: each run redacts at most 20,000 events (retention.py)
}
# ---- end Privacy

# ---- Routing
# docs/routing.md. Sweeps raise due call backs, reassign waiting cases, flag unanswered ones.
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
# The call-back page shows a day's times as a handful spread over the day, not every slot.
ROUTING_CALLBACK_TIMES_PER_DAY = env.int("ROUTING_CALLBACK_TIMES_PER_DAY", default=8)
# The widget hands routing the shopper's answer to an offer (adapters never import routing).
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
# The shop's own window on the customer's clock ("HH:MM-HH:MM", start before end); the
# law's windows of the recipient's jurisdictions narrow it (engagement/jurisdictions.py).
# A proactive message due outside it waits for the next start.
ENGAGEMENT_SEND_WINDOW = env("ENGAGEMENT_SEND_WINDOW", default="08:00-21:00")
# Jurisdictions added to, or fields overriding, the built-in table (docs/compliance.md),
# as JSON: {"US-CT": {"name": "Connecticut", "hours": "mon-sun 09:00-20:00",
# "subject_cap": "3/24h", "holidays_off": false, "zone": "America/New_York", "source": "..."}}
ENGAGEMENT_JURISDICTIONS = env.json("ENGAGEMENT_JURISDICTIONS", default={})
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
# One offer in one place: a proposal (e.g. the call-back offer) sent on any channel is not
# sent again, on any channel, within this many hours (engagement/arbiter.py, "Once").
ENGAGEMENT_OFFER_ONCE_HOURS = env.int("ENGAGEMENT_OFFER_ONCE_HOURS", default=24)
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
# Memory PostgreSQL may give each figure's sorts and hashes (its work_mem, per statement).
INSIGHTS_WORK_MEM = env("INSIGHTS_WORK_MEM", default="64MB")
# A read replica for the figures (docs/scaling.md, "Read replicas for insights"): unset,
# they read the primary. Its tests use the primary's test database (a mirror).
if INSIGHTS_DATABASE_URL := env("INSIGHTS_DATABASE_URL", default=""):
    DATABASES["insights"] = {
        **env.db_url("INSIGHTS_DATABASE_URL"),
        "CONN_MAX_AGE": 0,
        "TEST": {"MIRROR": "default"},
    }
    THROUGHLINE_INSIGHTS_DATABASE = "insights"
else:
    THROUGHLINE_INSIGHTS_DATABASE = "default"
DATABASE_ROUTERS = ["insights.routers.InsightsReplicaRouter"]
CELERY_BEAT_SCHEDULE["insights-refresh-personas"] = {
    "task": "insights.refresh_personas",
    "schedule": 60.0 * 60,  # hourly: who matches a persona changes slowly
}
# ---- end Insights
