"""The customer's name, from whatever she gave anywhere, with where it came from.

Sources, each through `offer_name(customer, name, source=...)`:

- `agent`: an agent typed it (the customer admin); it always wins and nothing automatic
  replaces it;
- `identify`: the shop vouched for it (the `name` claim of the widget's signed identify);
- `api`: the shop named the customer when it first referred to her (set at creation by
  `resolve_customer(display_name=...)`, which records no source: a name without a
  source ranks as this);
- `order`: the name on an order (`customer_name` in an order_placed payload);
- `email`: the display name of an email address (`"Dana Whitfield" <dana@...>`);
- `call`: the caller name the phone network gave (Twilio's `CallerName`, CNAM: often
  upper case, "LAST,FIRST", or a placeholder such as "WIRELESS CALLER").

An automatic name replaces only an empty one or one from a less trusted source; within
one source the first name stays (a second order's name does not flap the header). The
source is kept in `Customer.name_source` ("order:4242", "agent:alice"), so an agent can
see why the customer is called what she is called.

`on_event` is the reaction that reads names from the journal (orders, calls); identify
calls `offer_name` itself, as it records no event.
"""

from __future__ import annotations

import re
import unicodedata
from email.utils import parseaddr

from django.db import transaction

from conversations.identities import live_customer
from conversations.models import Customer, Event

# How much each source is trusted; "" is a name set before sources were recorded.
RANK = {"call": 10, "email": 20, "order": 30, "": 40, "api": 40, "identify": 50, "agent": 100}
MAX_NAME = 200  # Customer.display_name
MAX_SOURCE = 64  # Customer.name_source

# What phone networks send when they have no name (compared upper case, spaces squeezed)
_PLACEHOLDERS = frozenset(
    {
        "ANONYMOUS",
        "BLOCKED",
        "CELL PHONE",
        "NO CALLER ID",
        "NOT AVAILABLE",
        "OUT OF AREA",
        "PRIVATE",
        "PRIVATE CALLER",
        "RESTRICTED",
        "TOLL FREE CALL",
        "UNAVAILABLE",
        "UNKNOWN",
        "UNKNOWN CALLER",
        "UNKNOWN NAME",
        "WIRELESS CALLER",
    }
)


def clean(name: object) -> str:
    """A name fit to show: text with at least one letter, spaces squeezed, no control
    characters, at most MAX_NAME long; "" when there is none."""
    if not isinstance(name, str):
        return ""
    text = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable())
    text = " ".join(text.split())[:MAX_NAME].strip()
    return text if any(ch.isalpha() for ch in text) else ""


def from_caller_name(value: str) -> str:
    """A person's name from CNAM: "WHITFIELD,DANA" is "Dana Whitfield"; a placeholder,
    a number or a city ("" when in doubt is better than a wrong name)."""
    text = clean(value)
    if not text or " ".join(text.upper().split()) in _PLACEHOLDERS:
        return ""
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first.strip()} {last.strip()}".strip()
    if text.isupper():  # CNAM shouts; a name written by a person keeps its case
        text = " ".join(part.capitalize() for part in re.split(r"\s+", text))
    return text


def from_email_address(header: str) -> str:
    """The display name of an address header (`"Dana Whitfield" <dana@example.com>`),
    "" when it has none or only repeats the address."""
    name, address = parseaddr(header or "")
    name = clean(name)
    if not name or name.lower() == address.lower() or "@" in name:
        return ""
    return name


def offer_name(customer: Customer, name: str, *, source: str, detail: str = "") -> bool:
    """Give the customer this name unless a name from a source as trusted or more is
    already there (an agent's always wins). True when the name changed."""
    if source not in RANK or not source:
        raise ValueError(f"Unknown name source {source!r}.")
    name = clean(name)
    if not name:
        return False
    label = f"{source}:{detail}"[:MAX_SOURCE] if detail else source
    given = customer
    with transaction.atomic():
        customer = live_customer(customer)
        current = Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)
        if current.display_name == name and current.name_source.split(":")[0] == source:
            return False
        held = RANK.get(current.name_source.split(":")[0], RANK[""])
        if current.display_name and source != "agent" and RANK[source] <= held:
            return False
        Customer.objects.filter(pk=current.pk).update(display_name=name, name_source=label)
    if given.pk == current.pk:  # the caller's object says what the row says (admin saves it)
        given.display_name, given.name_source = name, label
    return True


def named_by_agent(customer: Customer, name: str, *, by) -> bool:
    """An agent typed the customer's name (or cleared it: then automatic sources may name
    her again)."""
    if not clean(name):
        Customer.objects.filter(pk=customer.pk).update(display_name="", name_source="")
        customer.display_name, customer.name_source = "", ""
        return True
    return offer_name(customer, name, source="agent", detail=getattr(by, "username", ""))


def kept_on_merge(survivor: Customer, merged: Customer) -> tuple[str, str]:
    """The name (and its source) the survivor of a merge keeps: the more trusted of the
    two, the survivor's on a tie."""

    def rank(customer: Customer) -> int:
        if not customer.display_name:
            return -1
        return RANK.get(customer.name_source.split(":")[0], RANK[""])

    chosen = merged if rank(merged) > rank(survivor) else survivor
    return chosen.display_name, chosen.name_source


def on_event(event: Event) -> None:
    """The reaction: names that arrive in the journal (an order's, a caller's)."""
    data = event.data or {}
    if event.kind == "order" and data.get("customer_name"):
        offer_name(
            _customer(event),
            data["customer_name"],
            source="order",
            detail=str(data.get("order_id", "")),
        )
    elif event.kind == "call" and event.direction == Event.Direction.IN:
        name = from_caller_name(data.get("caller_name") or "")
        if name:
            offer_name(_customer(event), name, source="call")


def _customer(event: Event) -> Customer:
    return Customer.objects.get(conversation__pk=event.conversation_id)
