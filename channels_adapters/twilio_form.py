"""One strict reader for the forms Twilio posts to every webhook, SMS and voice alike.

The signature (twilio_signature.py) proves Twilio sent a form; it says nothing of what is
in it. Each field is read here by its type, and a field that is not what Twilio sends
raises `BadForm` with a reason the webhook answers as 400 (twilio_webhook does), before
anything is written:

- SIDs: two capital letters and 32 lower-case hex digits;
- integers: ASCII digits only, within a range (`"²"` is a digit to Python, not here);
- text: no NUL and no lone surrogate (PostgreSQL cannot store them), NFC, bounded;
- URLs: https, bounded, no spaces or control characters;
- senders: an E.164 phone, `whatsapp:` + E.164, a short code or an alphanumeric id.

Fields that only add detail can be read leniently (`keep=False` drops a bad value), so
a signed request that is odd in a corner still keeps what it can (docs/twilio.md,
"What is accepted").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from base.inputs import ascii_int, clean_text, unstorable
from conversations.identities import (
    WHATSAPP_PREFIX,
    InvalidIdentity,
    normalize_alphanumeric,
    normalize_phone,
    normalize_short_code,
    normalize_whatsapp,
)
from conversations.models import Identity

_SID = re.compile(r"[A-Z]{2}[0-9a-f]{32}")
_URL_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII: no spaces, no controls
_TOKEN = re.compile(r"[a-z0-9_-]{1,32}")
_KEYPAD = re.compile(r"[0-9*#]{0,32}")
_DIGITS = re.compile(r"[0-9]{1,8}")  # a short code's shape (normalize_short_code says 3-8)
MAX_URL_CHARS = 1000
MAX_ADDRESS_CHARS = 64


class BadForm(ValueError):
    """A signed Twilio form with a field that is not what Twilio sends: answered 400."""


@dataclass(frozen=True)
class Address:
    """A sender or recipient as Twilio writes it, read as one of our identity kinds."""

    kind: str  # Identity.Kind: phone, whatsapp, short_code or alphanumeric
    value: str  # E.164 for phone and whatsapp; the code or the id otherwise


def read_address(raw: str) -> Address:
    """Read `From`/`To` of a message; raise InvalidIdentity when it is none of the four.

    A short code is tried before a phone: "12345" is never a valid phone number, and a
    region's national reading must not turn a code into one.
    """
    text = raw.strip()
    if text[: len(WHATSAPP_PREFIX)].lower() == WHATSAPP_PREFIX:
        return Address(Identity.Kind.WHATSAPP, normalize_whatsapp(text))
    if _DIGITS.fullmatch(text):
        return Address(Identity.Kind.SHORT_CODE, normalize_short_code(text))
    try:
        return Address(Identity.Kind.PHONE, normalize_phone(text))
    except InvalidIdentity:
        pass
    if text.startswith("+") or ":" in text:
        # a number that is not valid, or a channel we do not take (messenger:, rcs:, sip:)
        raise InvalidIdentity("not a valid phone number, nor a channel Throughline takes")
    return Address(Identity.Kind.ALPHANUMERIC, normalize_alphanumeric(text))


class TwilioForm:
    """Typed, strict access to one webhook's form (and, for our own `?call=` and
    `?outbox=`, its query string)."""

    def __init__(self, form: Mapping[str, str], query: Mapping[str, str] | None = None):
        self._form = form
        self._query = query or {}

    def has(self, name: str) -> bool:
        return name in self._form

    def _raw(self, names: str | Iterable[str]) -> tuple[str, str]:
        """(the first of `names` that is present and not empty, its value), or (names[0], "")."""
        names = (names,) if isinstance(names, str) else tuple(names)
        for name in names:
            value = self._form.get(name, "")
            if value:
                return name, value
        return names[0], ""

    def text(self, names, *, max_chars: int, required: bool = False, keep: bool = True) -> str:
        """Text PostgreSQL can store, in NFC, at most `max_chars` long.

        `keep=False`: a value that cannot be kept is dropped ("") instead of refused.
        """
        name, value = self._raw(names)
        if not value:
            if required:
                raise BadForm(f"{name} is required.")
            return ""
        problem = unstorable(value)
        if problem is None:
            value = clean_text(value)
            if len(value) > max_chars:
                problem = f"is longer than {max_chars} characters"
        if problem is None:
            return value
        if keep:
            raise BadForm(f"{name} {problem}.")
        return ""

    def sid(self, names, *, prefixes: Iterable[str] = (), required: bool = True) -> str:
        """A Twilio SID (two capitals, 32 hex digits), with one of `prefixes` if given."""
        name, value = self._raw(names)
        if not value and not required:
            return ""
        prefixes = tuple(prefixes)
        if not _SID.fullmatch(value) or (prefixes and not value.startswith(prefixes)):
            raise BadForm(f"{name} is missing or malformed.")
        return value

    def integer(self, name: str, *, low: int = 0, high: int, keep: bool = True) -> int | None:
        """ASCII digits within [low, high]; None when absent (or bad, with `keep=False`)."""
        value = self._form.get(name, "")
        if not value:
            return None
        number = ascii_int(value, low=low, high=high)
        if number is None and keep:
            raise BadForm(f"{name} is not a whole number from {low} to {high}.")
        return number

    def url(self, names, *, required: bool = False) -> str:
        """An https URL with a host, printable ASCII, at most MAX_URL_CHARS."""
        name, value = self._raw(names)
        if not value:
            if required:
                raise BadForm(f"{name} is required.")
            return ""
        if (
            len(value) > MAX_URL_CHARS
            or not _URL_CHARS.fullmatch(value)
            or urlsplit(value).scheme != "https"
            or not urlsplit(value).hostname
        ):
            raise BadForm(f"{name} is not an https URL.")
        return value

    def token(self, names, *, required: bool = False, keep: bool = True) -> str:
        """A lower-cased status word (`delivered`, `no-answer`...), "" when absent.

        Which words are known is the caller's business: Twilio adds statuses, and an
        unknown one is answered 2xx and ignored, not refused.
        """
        name, value = self._raw(names)
        value = value.strip().lower()
        if not value:
            if required:
                raise BadForm(f"{name} is required.")
            return ""
        if not _TOKEN.fullmatch(value):
            if keep:
                raise BadForm(f"{name} is not a status word.")
            return ""
        return value

    def enum(self, name: str, allowed: Iterable[str]) -> str:
        """One of `allowed` (compared lower-cased), "" when absent."""
        value = self._form.get(name, "").strip().lower()
        allowed = tuple(allowed)
        if value and value not in allowed:
            raise BadForm(f"{name} must be one of {', '.join(allowed)}.")
        return value

    def keypad(self, name: str) -> str:
        """Keys pressed: digits, * and #, at most 32."""
        value = self._form.get(name, "")
        if not _KEYPAD.fullmatch(value):
            raise BadForm(f"{name} are not keypad digits.")
        return value

    def address(self, name: str) -> Address:
        """A message's `From`/`To`: phone, WhatsApp, short code or alphanumeric sender."""
        value = self._form.get(name, "")
        if not value:
            raise BadForm(f"{name} is required.")
        if len(value) > MAX_ADDRESS_CHARS or unstorable(value):
            raise BadForm(f"{name} is not an address Throughline can read.")
        try:
            return read_address(value)
        except InvalidIdentity:
            raise BadForm(
                f"{name} is not a phone number, whatsapp: number, short code or "
                "alphanumeric sender id."
            ) from None

    def caller(self, name: str) -> str:
        """A caller's number in E.164, or "" for a caller we cannot know ("anonymous",
        "restricted", a SIP or client address): their call is still taken."""
        value = self._form.get(name, "")
        if not value or len(value) > MAX_ADDRESS_CHARS or unstorable(value):
            return ""
        try:
            return normalize_phone(value)
        except InvalidIdentity:
            return ""

    def query_id(self, name: str) -> int | None:
        """Our own id in the callback URL (`?call=`, `?outbox=`), None when absent or not
        one we could have written: the callback is then matched by its SID alone."""
        return ascii_int(self._query.get(name, ""), low=1, high=2**63 - 1)
