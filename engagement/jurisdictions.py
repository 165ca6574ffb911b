"""Quiet hours and per-subject limits by jurisdiction (docs/compliance.md, "Quiet hours and
frequency by jurisdiction"). The table is our reading of each law, not legal advice.

A `Jurisdiction` is data: the hours a proactive message may go out on each weekday on the
recipient's clock, whether legal holidays are off, and how many messages on one subject
fit in a window. The federal rule (`US`) applies to everyone; a state's rule applies on
top of it when the recipient is known to be there. `ENGAGEMENT_JURISDICTIONS` adds states
or overrides fields of the built-in ones.

Where the recipient is (`for_recipient`): the state in the customer's traits, else the
state of the store they belong to (its address, else its phone); and, always, the state
of the area code of the phone written to, because Florida and Oklahoma presume that a
number with their area code belongs to a resident. When they differ, both apply: a
`Regime` combines them (the narrowest window of each day and every cap), and adds the
shop's own ENGAGEMENT_SEND_WINDOW. Area codes, states and holiday calendars are cached: a
resolution costs no query, except the store's when nothing else can tell.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache

import holidays
import phonenumbers
from django.conf import settings
from phonenumbers import geocoder

from conversations.models import Customer

from . import local_time

Window = tuple[time, time]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FEDERAL = "US"
# How far ahead `next_allowed` looks for an open window (a week and a holiday or two).
LOOKAHEAD_DAYS = 14


@dataclass(frozen=True)
class Cap:
    """At most `count` messages on one subject within `window`."""

    count: int
    window: timedelta

    def __str__(self) -> str:
        hours = int(self.window.total_seconds() // 3600)
        return f"{self.count} per {hours} h"


@dataclass(frozen=True)
class Jurisdiction:
    code: str  # "US", or "US-" and the state's postal code
    name: str
    source: str  # the provision, as docs/compliance.md cites it
    hours: tuple[Window | None, ...]  # Monday to Sunday on the recipient's clock; None: no window
    holidays_off: bool = False  # nothing on the state's or the nation's legal holidays
    subject_cap: Cap | None = None  # messages on the same subject (a topic) per window
    zone: str = ""  # the state's main time zone: the clock of a recipient whose own is unknown

    def window_on(self, day: date) -> Window | None:
        if self.holidays_off and day in _holidays(self.code, day.year):
            return None
        return self.hours[day.weekday()]


def week(text: str) -> tuple[Window | None, ...]:
    """ "mon-sat 09:00-21:00; sun 12:00-21:00" -> seven windows, Monday first (unnamed days:
    none)."""
    hours: list[Window | None] = [None] * 7
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = re.fullmatch(r"(\w{3})(?:-(\w{3}))?\s+(\d\d:\d\d)-(\d\d:\d\d)", part)
        if not match or match[1] not in DAYS or (match[2] or match[1]) not in DAYS:
            raise ValueError(f'{part!r} is not like "mon-fri 09:00-18:00"')
        start, end = time.fromisoformat(match[3]), time.fromisoformat(match[4])
        if start >= end:
            raise ValueError(f"{part!r}: the window must start before it ends")
        first, last = DAYS.index(match[1]), DAYS.index(match[2] or match[1])
        for day in range(first, last + 1):
            hours[day] = (start, end)
    return tuple(hours)


def cap(text: str) -> Cap | None:
    """ "3/24h" -> Cap(3, 24 hours); "" -> None."""
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*h\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not like 3/24h")
    return Cap(int(match[1]), timedelta(hours=int(match[2])))


EIGHT_TO_EIGHT = week("mon-sun 08:00-20:00")
THREE_A_DAY = Cap(3, timedelta(hours=24))

# Checked against the statutes' text in 2026-12; docs/compliance.md quotes each.
BUILT_IN = (
    Jurisdiction(
        FEDERAL,
        "United States (federal)",
        "47 U.S.C. § 227 (TCPA); 47 C.F.R. § 64.1200(c)(1): not before 8 a.m. or after "
        "9 p.m. at the called party's location",
        week("mon-sun 08:00-21:00"),
    ),
    Jurisdiction(
        "US-FL",
        "Florida",
        "Fla. Stat. § 501.616(6)(a)-(b) (Florida Telemarketing Act, as amended in 2021 with "
        "the FTSA, § 501.059)",
        EIGHT_TO_EIGHT,
        subject_cap=THREE_A_DAY,
        zone="America/New_York",
    ),
    Jurisdiction(
        "US-OK",
        "Oklahoma",
        "15 O.S. § 775C.4 (Telephone Solicitation Act of 2022, 15 O.S. § 775C.1 et seq.)",
        EIGHT_TO_EIGHT,
        subject_cap=THREE_A_DAY,
        zone="America/Chicago",
    ),
    Jurisdiction(
        "US-MD",
        "Maryland",
        "Md. Code, Com. Law § 14-4502 (Stop the Spam Calls Act of 2023, § 14-4501 et seq.)",
        EIGHT_TO_EIGHT,
        subject_cap=THREE_A_DAY,
        zone="America/New_York",
    ),
    Jurisdiction(
        "US-TX",
        "Texas",
        "Tex. Bus. & Com. Code § 301.051: 9 a.m.-9 p.m. Monday to Saturday, noon-9 p.m. Sunday",
        week("mon-sat 09:00-21:00; sun 12:00-21:00"),
        zone="America/Chicago",
    ),
    Jurisdiction(
        "US-RI",
        "Rhode Island",
        'R.I. Gen. Laws § 5-61-3.6 and the "hours of operation" of § 5-61-2',
        week("mon-fri 09:00-18:00; sat 10:00-17:00"),
        holidays_off=True,
        zone="America/New_York",
    ),
    Jurisdiction(
        "US-MS",
        "Mississippi",
        "Miss. Code Ann. § 77-3-723: 8 a.m.-8 p.m., never on Sunday",
        week("mon-sat 08:00-20:00"),
        zone="America/Chicago",
    ),
)


def table() -> dict[str, Jurisdiction]:
    """Every jurisdiction by code: the built-in ones with ENGAGEMENT_JURISDICTIONS applied."""
    overrides = getattr(settings, "ENGAGEMENT_JURISDICTIONS", None) or {}
    return _table(json.dumps(overrides, sort_keys=True))


@lru_cache(maxsize=8)  # keyed by the setting's text: a changed setting is read again
def _table(overrides_json: str) -> dict[str, Jurisdiction]:
    found = {j.code: j for j in BUILT_IN}
    for code, fields in json.loads(overrides_json).items():
        code = code.upper()
        if not re.fullmatch(r"US(-[A-Z]{2})?", code):
            raise ValueError(f'ENGAGEMENT_JURISDICTIONS: {code!r} is not "US" or like "US-CT"')
        base = found.get(code) or Jurisdiction(code, code, "", (None,) * 7)
        changes = {k: v for k, v in fields.items() if k in ("name", "source", "zone")}
        try:
            if "hours" in fields:
                changes["hours"] = week(fields["hours"])
            if "subject_cap" in fields:
                changes["subject_cap"] = cap(fields["subject_cap"])
        except ValueError as exc:
            raise ValueError(f"ENGAGEMENT_JURISDICTIONS[{code!r}]: {exc}") from None
        if "holidays_off" in fields:
            changes["holidays_off"] = bool(fields["holidays_off"])
        found[code] = replace(base, **changes)
    if found[FEDERAL].hours.count(None) == 7:
        raise ValueError("ENGAGEMENT_JURISDICTIONS: the federal rule needs hours")
    return found


@cache
def _holidays(code: str, year: int) -> holidays.HolidayBase:
    state = code.partition("-")[2]
    try:
        return holidays.country_holidays("US", subdiv=state or None, years=year)
    except NotImplementedError:  # a code the holidays package does not know: federal ones
        return holidays.country_holidays("US", years=year)


# ---------------------------------------------------------------------------- combined


@dataclass(frozen=True)
class Regime:
    """The jurisdictions that apply to one recipient, on the recipient's clock."""

    jurisdictions: tuple[Jurisdiction, ...]
    zone: zoneinfo.ZoneInfo

    @property
    def codes(self) -> list[str]:
        return [j.code for j in self.jurisdictions]

    def describe(self) -> str:
        return ", ".join(j.name for j in self.jurisdictions if j.code != FEDERAL) or "federal"

    def window_on(self, day: date) -> Window | None:
        """The narrowest window of the day: every rule's and the shop's; None: no window."""
        start, end = local_time.send_window()
        for jurisdiction in self.jurisdictions:
            window = jurisdiction.window_on(day)
            if window is None:
                return None
            start, end = max(start, window[0]), min(end, window[1])
        return (start, end) if start < end else None

    def next_allowed(self, now: datetime) -> datetime | None:
        """None when `now` is inside today's window; else the start of the next one."""
        local = now.astimezone(self.zone)
        for offset in range(LOOKAHEAD_DAYS + 1):
            day = local.date() + timedelta(days=offset)
            window = self.window_on(day)
            if window is None:
                continue
            if offset == 0 and local.time() >= window[0]:
                if local.time() < window[1]:
                    return None
                continue  # today's is over
            # A wall-clock time built in the zone: DST is the zone's business, not ours.
            return datetime.combine(day, window[0], tzinfo=self.zone)
        raise ValueError(f"no send window within {LOOKAHEAD_DAYS} days for {self.codes}")

    def subject_caps(self) -> list[tuple[Cap, Jurisdiction]]:
        return [(j.subject_cap, j) for j in self.jurisdictions if j.subject_cap is not None]


def regime(codes: list[str] | tuple[str, ...], zone_name: str) -> Regime:
    """The regime a decision recorded (its codes and clock), as the rules are now."""
    known = table()
    chosen = tuple(known[code] for code in dict.fromkeys([FEDERAL, *codes]) if code in known)
    zone = local_time.zone(zone_name) or local_time.default_zone()
    return Regime(chosen, zone)


def for_recipient(customer: Customer, *, phone: str = "") -> Regime:
    """The rules for this customer, reached at `phone` (else their newest phone); see the
    module docstring for the order."""
    if not phone:
        phone = local_time.newest_phone(customer)
    known = table()
    states = [state_of_traits(customer.traits), state_of_number(phone)]
    store = local_time.UNKNOWN
    if not any(states):  # only the store can tell: one query, as customer_zone would do
        store = local_time.customer_store(customer)
        states.append(state_of_store(store))
    codes = [FEDERAL, *(f"US-{s}" for s in dict.fromkeys(filter(None, states)))]
    chosen = tuple(known[code] for code in codes if code in known)
    state_zone = next((j.zone for j in chosen if j.zone), "")
    zone = local_time.customer_zone(customer, phone=phone, state_zone=state_zone, store=store)
    return Regime(chosen, zone)


# ---------------------------------------------------------------------------- states

STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "washington d.c.": "DC", "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID",
    "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY",
    "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO",
    "montana": "MT", "nebraska": "NE", "nevada": "NV", "new hampshire": "NH",
    "new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
}  # fmt: skip
_CODES = frozenset(STATES.values())
_ZIP = re.compile(r"\b([A-Z]{2})\s+\d{5}(?:-\d{4})?\b")  # "..., Miami, FL 33101"


def state_code(value: object) -> str:
    """ "FL", "fl", "Florida" -> "FL"; anything else -> ""."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if text.upper() in _CODES:
        return text.upper()
    return STATES.get(text.lower(), "")


def state_of_traits(traits: object) -> str:
    """The state the shop told us (traits `state` or `region`, or the same in `address`)."""
    if not isinstance(traits, dict):
        return ""
    address = traits.get("address")
    for source in (traits, address if isinstance(address, dict) else {}):
        for key in ("state", "region"):
            if found := state_code(source.get(key)):
                return found
    return ""


def state_of_number(number: str) -> str:
    """The US state of a phone number's area code, or ""; cached per area code."""
    if not number.startswith("+1") or len(number) != 12:
        return ""
    area = number[:5]  # at most a thousand keys: "+1" and three digits
    if area not in _AREA_STATES:
        # the state is the same for every number of an area code: the first one tells
        _AREA_STATES[area] = _geocoded_state(number)
    return _AREA_STATES[area]


_AREA_STATES: dict[str, str] = {}


def _geocoded_state(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return ""
    if phonenumbers.region_code_for_number(parsed) != "US":
        return ""
    place = geocoder.description_for_number(parsed, "en")  # "Florida", "New York, NY"
    return state_code(place.rpartition(", ")[2]) or state_code(place)


def state_of_store(store) -> str:
    if store is None:
        return ""
    if (match := _ZIP.search(store.address or "")) and match[1] in _CODES:
        return match[1]
    return state_of_number(store.phone or "")
