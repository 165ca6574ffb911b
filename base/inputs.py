"""Reading untrusted text at the edges: integers of ASCII digits, strings PostgreSQL can store.

Every edge (the API, the Twilio webhooks, the widget, the customer's pages) reads numbers and
text through these, so a class of bad input is refused in one place:

- `str.isdigit()` accepts "²" and "३", which `int()` then rejects or misreads; only the ten
  ASCII digits make a number here.
- PostgreSQL's text cannot hold NUL, and UTF-8 cannot hold a lone surrogate (JSON's
  "\\ud800" decodes to one); either would fail inside the database, after other rows of the
  same request were written.
- JSON: `read_json`, pydantic's reader (the API's), not Python's, which raises
  RecursionError on a body of nested brackets (a 500) and reads NaN and Infinity.
- Times: a date-time the sender says something happened at must fall within
  [EARLIEST_TIME, now + MAX_CLOCK_SKEW]. PostgreSQL stores years Python cannot read (a
  stamp of 0001-01-01T00:00+14:00 is year 0 in UTC): one such row made every page that
  read it fail. conversations/repair.py applies the same window to rows already stored.
  A time someone picks ahead (a snooze, a call back) is at most MAX_AHEAD away, and
  `read_datetime` reads one without raising on "2026-02-30" or "+99:00".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, tzinfo

import pydantic_core
from django.utils.dateparse import parse_datetime

# 19 digits hold every bigint (2**63 - 1 has 19); the range check refuses the larger ones.
_ASCII_INT = re.compile(r"[0-9]{1,19}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# Nothing Throughline records happened before this (the shop's history starts later).
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
# Clocks drift; a time further ahead of ours than this is a bug on the sender's side.
MAX_CLOCK_SKEW = timedelta(minutes=5)
# A time picked ahead of now (a snooze, a call back) is within this: further is a slip of
# the keyboard, and a year past 9999 once shown in some zone is a row no page can read.
MAX_AHEAD = timedelta(days=366)


def ascii_int(value: object, *, low: int = 0, high: int = 2**63 - 1) -> int | None:
    """`value` as an int when it is 1-19 ASCII digits within [low, high], else None."""
    if not isinstance(value, str) or not _ASCII_INT.fullmatch(value):
        return None
    number = int(value)
    return number if low <= number <= high else None


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored (a NUL or a lone surrogate), or None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return "contains a NUL character" if found.group() == "\x00" else "contains a lone surrogate"


def clean_text(text: str) -> str:
    """`text` in Unicode NFC, the form PostgreSQL compares and indexes consistently."""
    return unicodedata.normalize("NFC", text)


def read_json(raw: bytes | str) -> object:
    """Decoded JSON from a body or frame someone sent; ValueError saying what is wrong
    (nesting deeper than the reader's limit, a lone surrogate, NaN, bad UTF-8)."""
    try:
        return pydantic_core.from_json(raw, allow_inf_nan=False)
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None


def read_datetime(text: object, *, zone: tzinfo | None) -> datetime | None:
    """ISO 8601 text as an aware datetime, read in `zone` when it names no offset (with
    no zone, such text is none); None when it is not one. Django's parse_datetime raises
    ValueError for text that is well formed but names no real time ("2026-02-30T10:00",
    "25:00", an offset of "+99:00")."""
    if not isinstance(text, str):
        return None
    try:
        parsed = parse_datetime(text.strip())
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is not None:
        return parsed
    return parsed.replace(tzinfo=zone) if zone is not None else None


def time_problem(when: datetime, *, now: datetime) -> str | None:
    """Why an aware `when` is outside [EARLIEST_TIME, now + MAX_CLOCK_SKEW], or None."""
    if when < EARLIEST_TIME:
        return f"is before {EARLIEST_TIME:%Y-%m-%d}."
    if when > now + MAX_CLOCK_SKEW:
        return "is in the future."
    return None


def unstorable_in(value: object, where: str = "body") -> tuple[str, str] | None:
    """The first place in decoded JSON (keys included) holding text that cannot be stored,
    and why: `("body.props.title", "contains a NUL character")`; None when all can be."""
    if isinstance(value, str):
        problem = unstorable(value)
        return (where, problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = unstorable_in(key, f"{where} key") or unstorable_in(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_in(item, f"{where}[{index}]")
            if found:
                return found
    return None
