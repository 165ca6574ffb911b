"""Log lines an operator can feed to a log store, and errors to Sentry (docs/operations.md,
"Logs" and "Errors").

- LOG_FORMAT=json: every line is one JSON object (`JsonFormatter`); text is the default.
- One line per HTTP request from `log_request` (called by operations/telemetry.py):
  method, path, status, duration, channel. Never a query string, a form or a body: the
  path is all there is, and `loggable_path` blanks the segments that could be personal or
  secret (a signed token, a phone number, an email address).
- `Redact`, a filter on the console handler, blanks E.164 phone numbers and the customer's
  signed page tokens in every other line too; a line about a request (Django's own
  "Not Found: /api/v1/customers/email:…") names its path as `loggable_path` does.
- `init_sentry` (settings, when SENTRY_DSN is set) sends errors without personal data:
  no request bodies, no cookies or users, no local variables of the stack.

Imported by the logging configuration, before the apps are ready: no models here.
"""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

REQUEST_LOGGER = logging.getLogger("throughline.requests")

REDACTED = "[redacted]"
# Path segments that may carry a person or a secret: long (signed tokens, visitor ids),
# seven digits or more (phone numbers, however written), or an email address.
_LONG_SEGMENT = 24
_DIGITS = re.compile(r"\d")
# In free text: a phone number in E.164 (what the project stores), or a customer page's
# token (/c/<token>/...).
_PHONE = re.compile(r"\+\d{7,15}")
_CUSTOMER_PAGE = re.compile(r"/c/[^/\s]+")


def loggable_path(path: str) -> str:
    """The request path with every segment that could be personal or secret blanked."""
    parts = path.split("/")
    for index, part in enumerate(parts):
        if (
            len(part) >= _LONG_SEGMENT
            or len(_DIGITS.findall(part)) >= 7
            or "@" in part
            or "%40" in part
        ):
            parts[index] = REDACTED
    if len(parts) > 2 and parts[1] == "c":  # /c/<token>/...: the token, however short
        parts[2] = REDACTED
    return "/".join(parts)


def redact(text: str) -> str:
    return _CUSTOMER_PAGE.sub(f"/c/{REDACTED}", _PHONE.sub(REDACTED, text))


def log_request(request, *, status: int, seconds: float, channel: str) -> None:
    """One line for one request, at INFO (LOG_REQUESTS=false, or a higher level, mutes it)."""
    if not REQUEST_LOGGER.isEnabledFor(logging.INFO):
        return
    path = loggable_path(request.path)
    duration_ms = round(seconds * 1000, 2)
    REQUEST_LOGGER.info(
        "%s %s %s %.1fms",
        request.method,
        path,
        status,
        duration_ms,
        extra={
            "method": request.method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "channel": channel,
        },
    )


class Redact(logging.Filter):
    """Blank phone numbers and customer page tokens in a record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == REQUEST_LOGGER.name:
            return True  # built from a redacted path and numbers only
        message = cleaned = record.getMessage()
        path = getattr(getattr(record, "request", None), "path", None)
        if isinstance(path, str) and path:  # Django's request and security loggers
            cleaned = cleaned.replace(path, loggable_path(path))
        cleaned = redact(cleaned)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(_JsonFormatter):
    """time, level, logger, message and the record's extra fields (a request line's method,
    path, status, duration_ms, channel), as one JSON object per line."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_record: dict) -> dict:
        # Django's request logger hands over the request itself; its repr is the full URL,
        # query string included. The message already says what went wrong, and where.
        log_record.pop("request", None)
        return log_record


def init_sentry(dsn: str, *, environment: str, traces_sample_rate: float) -> None:
    """Send errors (and, if asked, a sample of traces) to Sentry, without personal data."""
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,  # no user, cookies or client address
        max_request_body_size="never",  # a webhook's form is a phone number and a message
        include_local_variables=False,  # a stack's locals hold the same
    )
