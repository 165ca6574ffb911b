"""Hypothesis strategies for signed Twilio forms that are odd: a real payload with some
fields changed to odd values, removed, or added, and forms of random fields."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.fakes.twilio_payloads import payload

# Values that have broken parsers before, and their cousins.
ODD_VALUES = [
    "",
    "²",
    "३",
    "\uff11",
    "--5",
    "-1",
    "-0",
    "0",
    "1e3",
    " 7",
    "9" * 30,
    "\x00",
    "hello\x00",
    "whatsapp:",
    "whatsapp:+1",
    "whatsapp:+14155550123",
    "+1",
    "12",
    "72345",
    "FastShip",
    "anonymous",
    "client:alice",
    "https://",
    "http://api.twilio.com/x",
    "https://api.twilio.com/ space",
    "SM" + "a" * 32,
    "CA" + "0" * 32,
    "RE" + "0" * 32,
    "STOP",
    "completed",
    "absent",
    "x" * 2000,
    "Cafe\u0301",
]
# any text a form can carry: no lone surrogates, which UTF-8 (and so a form) cannot encode
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
values = st.one_of(st.sampled_from(ODD_VALUES), text)


def odd_forms(adapter: str, fixture: str):
    """A real payload with up to six fields changed, removed, or added."""
    base = payload(adapter, fixture)
    names = st.sampled_from(sorted(base)) | text.filter(bool)
    changes = st.dictionaries(names, st.none() | values, max_size=6)

    def apply(changed: dict) -> dict[str, str]:
        form = dict(base)
        for key, value in changed.items():
            if value is None:
                form.pop(key, None)
            else:
                form[key] = value
        return form

    return changes.map(apply)


def random_forms(adapter: str, fixture: str):
    """Forms of the payload's field names (and others) with any values."""
    names = st.sampled_from(sorted(payload(adapter, fixture))) | text.filter(bool)
    return st.dictionaries(names, values, max_size=12)
