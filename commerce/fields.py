"""Bounded field types for untrusted JSON, each one validator and its JSON Schema together.

The events API, the messages API and the widget's `track` read their bodies through these
(pydantic types), and the OpenAPI document at `/api/schema/` shows the same bounds, because
it is generated from them. Each type states, in its schema, exactly what its validator
takes, so a request the document calls valid is accepted and one it calls invalid is
refused (schemathesis checks both ways in tests/api/test_schemathesis.py):

- text: a length in code points as sent, no NUL (PostgreSQL's text cannot hold one), no
  lone surrogate (UTF-8 cannot), stored in Unicode NFC (base.inputs);
- identifiers (event ids, SKUs, order ids): text with no control character and no space
  at either end, so " A1" and "A1" cannot be two products;
- whole numbers: JSON integers, or ASCII digits in a query string ("²" is no number);
- money: at most 10 digits before the point and 2 after, never negative;
- IP addresses: IPv4 or IPv6, as Python's ipaddress reads them (no zone id);
- timestamps: RFC 3339 with a time zone, from 2000-01-01 to a few minutes ahead of our
  clock, stored in UTC (year 1 with an offset is a sender's zero value, not a date).

`problems` turns pydantic's errors into (field, message) pairs in the API's words.
"""

from __future__ import annotations

import ipaddress
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from base.inputs import ascii_int, clean_text, unstorable

OLDEST = datetime(2000, 1, 1, tzinfo=UTC)
# Clocks drift; an event stamped further ahead than this is a bug on the sender's side.
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_MONEY = Decimal("9999999999.99")  # MONEY columns: 12 digits, 2 decimals
CENT = Decimal("0.01")

NO_NUL = r"^[^\u0000]*$"
# The same pattern in Python's re and in JSON Schema's (ECMA 262) regexes: explicit classes
# only, since the two dialects' \s differ. Ends exclude every space either dialect knows.
_EDGE = (
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u180e\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]"
)
_INNER = r"[^\u0000-\u001f\u007f-\u009f]"
IDENTIFIER = f"^(?:{_EDGE}(?:{_INNER}*{_EDGE})?)?$"
URL = r"^(?:(?:https?://|/)[^\u0000]*)?$"
MONEY_TEXT = r"^[0-9]{1,10}(?:\.[0-9]{1,2})?$"
CURRENCY = r"^[A-Za-z]{3}$"
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))?"
)


def refuse(message: str, *, at: str | None = None) -> PydanticCustomError:
    """The error a validator raises: `message` is what the API says; `at` a sub-field."""
    return PydanticCustomError("refused", message, {"at": at} if at else None)


def _typed(check, schema: dict[str, Any]) -> Any:
    return Annotated[Any, PlainValidator(check), WithJsonSchema(schema)]


# ---------------------------------------------------------------------------- text


def _text(value: object, *, min_length: int, max_length: int, required: str) -> str:
    if not isinstance(value, str):
        raise refuse(required if min_length else "must be a string.")
    if len(value) < min_length:
        raise refuse(required if min_length == 1 else f"must be at least {min_length} characters.")
    if len(value) > max_length:
        raise refuse(f"must be at most {max_length} characters.")
    if value.isascii():  # the common case, checked in C: ASCII is NFC and has no surrogate
        if "\x00" in value:
            raise refuse("contains a NUL character.")
        return value
    why = unstorable(value)
    if why is not None:
        raise refuse(f"{why}.")
    text = clean_text(value)
    if len(text) > max_length:  # a few characters grow in NFC; the column holds max_length
        raise refuse(f"must be at most {max_length} characters in Unicode NFC.")
    return text


def Text(max_length: int, *, min_length: int = 0, required: str = "is required.") -> Any:
    """A string of `min_length` to `max_length` characters, no NUL, stored in NFC."""

    def check(value: object) -> str:
        return _text(value, min_length=min_length, max_length=max_length, required=required)

    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": NO_NUL}
    if min_length:
        schema["minLength"] = min_length
    return _typed(check, schema)


def Identifier(max_length: int, *, required: str = "is required.") -> Any:
    """Text with no control character and no space at either end; never empty."""
    pattern = re.compile(IDENTIFIER)

    def check(value: object) -> str:
        text = _text(value, min_length=1, max_length=max_length, required=required)
        if not (text.isalnum() or pattern.match(value)):  # type: ignore[arg-type]  # a str
            raise refuse("must not hold control characters nor start or end with a space.")
        return text

    return _typed(
        check, {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": IDENTIFIER}
    )


def _url(value: object, *, required: bool) -> str:
    text = _text(value, min_length=int(required), max_length=2000, required="is required.")
    if text and not text.startswith(("https://", "http://", "/")):
        raise refuse("must be an http(s) URL or a path starting with /.")
    return text


Url = _typed(
    lambda value: _url(value, required=True),
    {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": URL},
)
OptionalUrl = _typed(
    lambda value: _url(value, required=False),
    {"type": "string", "maxLength": 2000, "pattern": URL, "description": '"" for none.'},
)


def _currency(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(CURRENCY, value):
        raise refuse("must be an ISO 4217 code such as USD.")
    return value.upper()


Currency = _typed(
    _currency, {"type": "string", "pattern": CURRENCY, "description": "ISO 4217, e.g. USD."}
)


def _ip(value: object) -> str:
    """An IPv4 or IPv6 address as the database's inet column stores it (no zone id)."""
    try:
        address = ipaddress.ip_address(value) if isinstance(value, str) else None
    except ValueError:
        address = None
    if address is None or getattr(address, "scope_id", None):
        raise refuse("must be an IPv4 or IPv6 address, e.g. 203.0.113.9.")
    return str(address)


IpAddress = _typed(
    _ip,
    {
        "type": "string",
        "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
        "description": "The client's IPv4 or IPv6 address, e.g. 203.0.113.9.",
    },
)


# ---------------------------------------------------------------------------- numbers


def _quantity(value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has numbers, not ints: 2.0 is the whole number 2
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise refuse("must be a whole number from 1 to 10000.")
    return value


Quantity = _typed(_quantity, {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1})


def AsciiInt(low: int, high: int) -> Any:
    """A whole number in a query string or path: ASCII digits only, from `low` to `high`."""

    def check(value: object) -> int:
        number = value if type(value) is int else ascii_int(value, low=low, high=high)
        if number is None or not low <= number <= high:
            raise refuse(f"must be a whole number from {low} to {high}.")
        return number

    return _typed(check, {"type": "integer", "minimum": low, "maximum": high})


_MONEY_TEXT = re.compile(MONEY_TEXT)
_MONEY_WORDS = (
    'must be a number or a decimal string ("19.99"): at most 10 digits, '
    "and at most 2 decimal places."
)


def _money(value: object) -> Decimal:
    """A money amount: a JSON number or a decimal string, at most 2 decimals, not negative."""
    if value is None:
        raise refuse("is required.")
    if isinstance(value, str) and _MONEY_TEXT.fullmatch(value):
        return Decimal(value).quantize(CENT)  # the common case: the pattern bounds it
    if isinstance(value, str):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise refuse(_MONEY_WORDS) from None
        if amount.is_finite() and amount >= 0 and not re.fullmatch(MONEY_TEXT, value):
            raise refuse(_MONEY_WORDS)
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise refuse("must be a finite number.")
        amount = Decimal(repr(value))  # the shortest form that reads back: 19.99, not 19.98999…
    else:
        raise refuse(_MONEY_WORDS)
    if not amount.is_finite():
        raise refuse("must be a finite number.")
    if amount < 0:
        raise refuse("must not be negative.")
    if amount > MAX_MONEY:  # before quantize, which cannot hold 1e30 in 28 digits
        raise refuse(f"must be at most {MAX_MONEY}.")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]  # finite: an int
        raise refuse("must have at most 2 decimal places.")
    return amount.quantize(CENT)


Money = _typed(
    _money,
    {
        "anyOf": [
            {"type": "string", "pattern": MONEY_TEXT},
            {"type": "number", "minimum": 0, "maximum": float(MAX_MONEY), "multipleOf": 0.01},
        ],
        "description": 'Money: a decimal string ("1299.00") or a JSON number, not negative, '
        "at most 2 decimal places and 10 digits before the point.",
    },
)


# ---------------------------------------------------------------------------- time


def _timestamp(value: object) -> datetime:
    if isinstance(value, datetime):  # from Python callers (the widget, tests)
        parsed = value
    else:
        found = _RFC3339.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            raise refuse(
                "must be an ISO 8601 (RFC 3339) date-time with a time zone, "
                "e.g. 2025-05-01T12:00:00Z."
            )
        y, mo, d, h, mi, s, fraction, zulu, sign, oh, om = found.groups()
        if not zulu and not sign:
            raise refuse("must include a time zone (Z or +hh:mm).")
        try:
            offset = timedelta(hours=int(oh or 0), minutes=int(om or 0))
            if offset >= timedelta(hours=24) or int(om or 0) > 59:
                raise ValueError("offset")
            micro = int((fraction or ".0")[1:7].ljust(6, "0"))
            parsed = datetime(
                int(y),
                int(mo),
                int(d),
                int(h),
                int(mi),
                int(s),
                micro,
                tzinfo=timezone(-offset if sign == "-" else offset),
            )
        except ValueError:
            raise refuse("is not a real date and time (check the month, day and offset).") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise refuse("must include a time zone (Z or +hh:mm).")
    # Compared as aware datetimes, before converting: year 1 at +14:00 has no UTC form.
    if parsed < OLDEST:
        raise refuse("must not be before 2000-01-01T00:00:00Z.")
    if parsed > datetime.now(UTC) + MAX_CLOCK_SKEW:
        raise refuse("is in the future (more than 5 minutes ahead of our clock).")
    return parsed.astimezone(UTC)


Timestamp = _typed(
    _timestamp,
    {
        "type": "string",
        "format": "date-time",
        "description": "RFC 3339 with a time zone (2025-05-01T12:00:00Z), from "
        "2000-01-01T00:00:00Z to 5 minutes ahead of our clock; stored in UTC. Left out or "
        "null: when it arrives.",
    },
)


# ---------------------------------------------------------------------------- errors


# the parent key -> what its unknown keys are not
_NOUNS = {
    "customer": "a customer reference",
    "payload": "a payload",
    "items": "a line",
    "events": "an event",
    "event": "an event",
}


def problems(
    error: ValidationError, *, skip: int = 0, noun: str = "a", tags: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(field, message) for each of pydantic's errors, in its order.

    `skip` drops the first parts of each location (the request's `body`, a parameter's
    name); `tags` are the discriminated unions' tags, which pydantic puts in locations
    (`events.0.cart_updated.payload`) and which are no field of the request.
    """
    found = []
    for problem in error.errors(include_url=False, include_input=False):
        loc = [part for part in problem["loc"][skip:] if part not in tags]
        kind, ctx = problem["type"], problem.get("ctx") or {}
        if kind == "extra_forbidden":
            parent = next((p for p in reversed(loc[:-1]) if isinstance(p, str)), None)
            message = f"is not {_NOUNS.get(parent, noun)} field."  # type: ignore[arg-type]
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("type")
            expected = str(ctx.get("expected_tags", "")).replace("'", "")
            message = (
                f"must be one of {expected}; got {ctx.get('tag')!r}."
                if kind == "union_tag_invalid"
                else f"is required: one of {expected}."
            )
        else:
            if ctx.get("at"):
                loc.append(ctx["at"])
            message = _MESSAGES.get(kind, problem["msg"])
            if kind == "too_short" and ctx.get("min_length") == 1:
                message = "must hold at least one item."
            elif kind in ("too_long", "too_short"):
                message = message.format(**ctx)
        found.append((field_name(loc) or "body", message))
    return found


_MESSAGES = {
    "missing": "is required.",
    "model_type": "must be an object.",
    "model_attributes_type": "must be an object.",
    "dict_type": "must be an object.",
    "list_type": "must be a list.",
    "too_long": "must hold at most {max_length} items.",
    "too_short": "must hold at least {min_length} item(s).",
    "bool_type": "must be true or false.",
    "bool_parsing": "must be true or false.",
    "string_type": "must be a string.",
    "literal_error": "must be one of the listed values.",
}


def field_name(loc: list) -> str:
    """`["events", 3, "payload", "items", 0, "price"]` -> `events[3].payload.items[0].price`."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name
