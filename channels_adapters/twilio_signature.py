"""The gate in front of every Twilio webhook (SMS and voice): `twilio_webhook`.

Twilio signs each request with the account's auth token over the URL it called and the
form fields it posted (`X-Twilio-Signature`). We check it against `PUBLIC_BASE_URL` plus
the path, never the Host header or scheme this process sees, so TLS ending at a proxy
cannot break it and a forged Host cannot pass it. Before that, plain sanity: POST only, a
form body of bounded size, valid UTF-8. Every refusal is a 4xx with a reason and runs
nothing; none of them logs a field value. Past the gate, the view reads the form through
`twilio_form.TwilioForm`; a field that is not what Twilio sends raises `BadForm`, which
the gate answers 400 with its reason (the views parse before they write).

Whose token: the account that owns the request (numbers/webhooks.py: its `AccountSid`,
which must own the `To` number). A request for an account or a number we do not own is
refused 403 like a bad signature; with no accounts or numbers as rows, the settings'
TWILIO_AUTH_TOKEN signs everything, as before. While the view runs, our number the
request is about (None without rows) is `numbers.webhooks.receiving.get()`.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from functools import wraps
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import DatabaseError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    QueryDict,
)
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator

from base.inputs import ascii_int

from .numbers.directory import Number, settings_credentials
from .numbers.webhooks import NotOurs, Owner, owner_of, receiving
from .twilio_form import BadForm

logger = logging.getLogger(__name__)

# Twilio's largest webhook (1600 characters of text, ten media URLs, the carrier fields)
# is a few kilobytes; anything much larger is not Twilio.
MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 200


def signature_ok(request: HttpRequest, token: str) -> bool:
    """Whether Twilio signed this request with `token`, checked against the public URL it
    was sent to."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    validator = RequestValidator(token)
    # Twilio signs the URL it called; its validator also tries the URL with the default
    # port added or removed, costing a second HMAC on every request. Try the URL as
    # called first and leave the variants to the validator only when that fails.
    expected = validator.compute_signature(url, request.POST)
    if hmac.compare_digest(expected.encode(), signature.encode()):  # bytes: any header is safe
        return True
    return validator.validate(url, request.POST, signature)


@dataclass(frozen=True)
class Passed:
    """What the gate learnt of a request it let through."""

    number: Number | None = None  # our number it is about (None without rows)
    database_down: bool = False  # the numbers could not be read: the settings' token signed


def _problem(request: HttpRequest) -> HttpResponse | Passed:
    """A 4xx response saying what is wrong with this request, or what it learnt if it
    may pass."""
    if request.method != "POST":
        response = HttpResponseNotAllowed(["POST"], "Twilio webhooks are POST requests.\n")
        response["Content-Type"] = "text/plain"
        return response
    length = ascii_int(request.META.get("CONTENT_LENGTH") or "0")
    if length is None:
        return HttpResponseBadRequest(
            "Content-Length is not a number.\n", content_type="text/plain"
        )
    if length > MAX_BODY_BYTES:
        return _too_large()
    content_type = request.content_type or ""
    if content_type != "application/x-www-form-urlencoded":
        return HttpResponse(
            "Twilio webhooks are application/x-www-form-urlencoded.\n",
            status=415,
            content_type="text/plain",
        )
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _too_large()
    try:
        # strict both ways: raw bytes and %-escapes must be UTF-8 (Django would replace them)
        fields = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS
        )
    except UnicodeDecodeError:
        return HttpResponseBadRequest("The body is not valid UTF-8.\n", content_type="text/plain")
    except ValueError:
        return HttpResponseBadRequest(
            f"More than {MAX_FIELDS} form fields.\n", content_type="text/plain"
        )
    # django-stubs type POST as their immutable QueryDict; Django's own is this class too
    request.POST = _form(fields)  # type: ignore[assignment]
    if not request.headers.get("X-Twilio-Signature"):
        return _bad_signature(request)  # unsigned: nothing is said about whose numbers are
    database_down = False
    try:
        owner = owner_of(request.POST)
    except NotOurs as exc:
        return _not_ours(request, exc)
    except DatabaseError:
        # Our numbers cannot be read: the settings' account still signs (a shop with one
        # account loses nothing), and a view with a `database_down` answer gives it without
        # waiting on the database a second time (a caller hears the apology within 15 s).
        logger.warning(
            "database unreachable: webhook %s checked with the settings' token", request.path
        )
        owner = Owner(settings_credentials())
        database_down = True
    if not signature_ok(request, owner.credentials.auth_token):
        return _bad_signature(request)
    try:
        owner.check()
    except NotOurs as exc:
        return _not_ours(request, exc)
    return Passed(owner.number, database_down)


def _form(fields: list[tuple[str, str]]) -> QueryDict:
    """The request's POST from the gate's own strict parse: once the body is known to be
    UTF-8, Django's parse would give the same form, parsing the body a second time."""
    form = QueryDict(mutable=True)
    for name, value in fields:
        form.appendlist(name, value)
    form._mutable = False
    return form


def _bad_signature(request: HttpRequest) -> HttpResponse:
    logger.warning("refused a webhook with a missing or invalid Twilio signature: %s", request.path)
    return HttpResponseForbidden(
        "Missing or invalid X-Twilio-Signature (is the account's auth token right, and "
        "PUBLIC_BASE_URL the address Twilio calls?).\n",
        content_type="text/plain",
    )


def _not_ours(request: HttpRequest, exc: NotOurs) -> HttpResponse:
    # the path and the reason only: never the number
    logger.warning("refused a webhook for a number or account not ours: %s", request.path)
    return HttpResponseForbidden(
        f'{exc} (docs/twilio.md, "Several numbers and accounts").\n', content_type="text/plain"
    )


def _too_large() -> HttpResponse:
    return HttpResponse(
        f"The body is larger than {MAX_BODY_BYTES} bytes.\n", status=413, content_type="text/plain"
    )


def twilio_webhook(view=None, *, database_down=None):
    """Let a view run only for a well-formed POST that Twilio signed; a form field the
    view finds unreadable (`BadForm`) is a 400 with the reason.

    `@twilio_webhook(database_down=answer)`: when the gate found the database unreachable
    (and the settings' token verified the request), `answer(request)` answers instead of
    the view, which would wait on the database again.
    """
    if view is None:
        return lambda view: twilio_webhook(view, database_down=database_down)

    @csrf_exempt
    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        passed = _problem(request)
        if not isinstance(passed, Passed):
            return passed
        # the view (and what it records: a STOP) can tell which of our numbers it is about
        receiving_token = receiving.set(passed.number)
        try:
            if database_down is not None and passed.database_down:
                return database_down(request)
            return view(request, *args, **kwargs)
        except BadForm as exc:
            return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain")
        finally:
            receiving.reset(receiving_token)

    return checked
