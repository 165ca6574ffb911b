"""The customer context: what everyone needs to know about a customer now.

One function, `build_context`, read by the agent panel, the widget and voice greetings
and the nudge templates; `greeting` turns a context into the widget's first words. It
reads a bounded number of rows whatever the length of the history.

Other apps contribute typed parts: each function of `context_providers` (declared on the
apps' AppConfig, THROUGHLINE_CONTEXT_PROVIDERS overrides them) is called with the (live)
customer and returns a `ContextPart` (a frozen dataclass) or a list of them, kept by type:
`context.part(CommerceContext)` is commerce's part or None. This module never imports
those apps; it defines only the two parts it reads itself, which apps fill in:

- `CurrentIntent` (commerce): what the customer is trying to do now, an `Intent`
  (`evaluating` a product, an open `cart`, or `checkout`) or None;
- `InStore` (instore): the customer's scan in a store just now, a `Visit` or None;
- `Purchases` (commerce): the last order and the open cart's value, what routing's rules
  read besides those two (JSON view `last_order`, `cart_value`).

`context.extra` is the JSON view of every part (`part.as_extra()`, merged in provider
order): the API's customer document, routing's conditions and the timeline template read
it by key; code reads the typed parts. A provider may still return a plain dict, merged
into `extra` as it is (no part).

`headline_for` is the hot path's cut of it: the name, the open case and the core's parts
(`CurrentIntent`, `InStore`, `Purchases`), for a sender known by an identity, in ONE
query. A caller waits on the voice webhook's answer, and the full context costs a dozen
queries. `headline_of` is the same read for a customer known by id (routing's first event
of a case reads its rules' context through it). Apps add their part through
`headline_parts` (THROUGHLINE_HEADLINE_PARTS): each a `HeadlinePart` whose SQL is a
scalar subquery over the customer `c` (it may use `%(name)s` parameters from
`params()`), and whose `parse` turns the value into the part(s) it provides, exactly as
its full provider does (the providers read through the same SQL or the same rules).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.db.models import Max

from base import plugins
from conversations import statements
from conversations.identities import live_customer
from conversations.models import Case, Customer, Event

logger = logging.getLogger(__name__)

RECENT_TOUCHPOINTS = 10
DEFAULT_GREETING = "Hi! How can we help you today?"


class ContextPart:
    """What one app contributes to the context: subclass it as a frozen dataclass."""

    def as_extra(self) -> dict[str, Any]:
        """The part's JSON-ready keys in `CustomerContext.extra` (none by default)."""
        return {}


P = TypeVar("P", bound=ContextPart)


@dataclass(frozen=True)
class Intent:
    """What the customer is trying to do now: `evaluating` a product (sku, name, views),
    or an open `cart` / a `checkout` (item_count, value, currency, names)."""

    kind: str
    sku: str = ""
    name: str = ""
    views: int = 0
    item_count: int = 0
    value: str = ""
    currency: str = ""
    names: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        if self.kind == "evaluating":
            return {"kind": self.kind, "sku": self.sku, "name": self.name, "views": self.views}
        return {
            "kind": self.kind,
            "item_count": self.item_count,
            "value": self.value,
            "currency": self.currency,
            "names": list(self.names),
        }


@dataclass(frozen=True)
class CurrentIntent(ContextPart):
    """The customer's intent now, or None (commerce provides it)."""

    intent: Intent | None

    def as_extra(self) -> dict[str, Any]:
        return {"current_intent": self.intent.as_json() if self.intent else None}


@dataclass(frozen=True)
class Visit:
    """A scan in a store just now: JSON objects as the API shows them."""

    store: dict[str, Any]  # id, name, time_zone
    product: dict[str, Any]  # id, sku, name, price, currency
    placement: dict[str, Any]  # id, label
    scanned_at: str  # ISO 8601

    @property
    def store_name(self) -> str:
        return self.store["name"]

    @property
    def product_name(self) -> str:
        return self.product["name"]


@dataclass(frozen=True)
class InStore(ContextPart):
    """Where the customer stands now, or None (instore provides it)."""

    visit: Visit | None

    def as_extra(self) -> dict[str, Any]:
        visit = self.visit
        return {
            "in_store": None
            if visit is None
            else {
                "store": visit.store,
                "product": visit.product,
                "placement": visit.placement,
                "scanned_at": visit.scanned_at,
            }
        }


@dataclass(frozen=True)
class Purchases(ContextPart):
    """The last order and the open cart's value, or None each (commerce provides it):
    JSON objects as the API shows them, the same keys as commerce's own part gives the
    agent panel (so a headline holds what routing's rules read of commerce)."""

    last_order: dict[str, Any] | None  # order_id, currency, total, placed_at, delivered_at
    cart_value: str | None  # a decimal string: the open cart with something in it

    def as_extra(self) -> dict[str, Any]:
        return {"last_order": self.last_order, "cart_value": self.cart_value}


class _Parts:
    """Parts kept by type, read with `part(SomePart)`; shared by context and headline."""

    parts: dict[type, ContextPart]

    def part(self, kind: type[P]) -> P | None:
        return self.parts.get(kind)  # type: ignore[return-value]  # keyed by its own type


def _collect(contributions: list[Any]) -> tuple[dict[type, ContextPart], dict[str, Any]]:
    """Parts by type and the JSON view of them all, in contribution order."""
    parts: dict[type, ContextPart] = {}
    extra: dict[str, Any] = {}
    for contribution in contributions:
        if isinstance(contribution, dict):  # an untyped provider: JSON keys only
            extra.update(contribution)
            continue
        for part in contribution if isinstance(contribution, list | tuple) else [contribution]:
            parts[type(part)] = part
            extra.update(part.as_extra())
    return parts, extra


@dataclass(frozen=True)
class IdentityView:
    kind: str
    value: str
    verified: bool
    opted_out: bool


@dataclass(frozen=True)
class CustomerContext(_Parts):
    customer: Customer
    name: str
    identities: list[IdentityView]
    # per channel that has a consent notion ("sms", "email"): False once every identity opted out
    consent: dict[str, bool]
    channels_used: list[str]  # channels the customer spoke on, most recent first
    last_channel: str
    recent: list[Event] = field(default_factory=list)  # newest first
    open_case: Case | None = None
    # What the providers contributed, by type, and its JSON view (see the module docstring).
    parts: dict[type, ContextPart] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


_CONSENT_CHANNEL = {"phone": "sms", "short_code": "sms", "email": "email", "whatsapp": "whatsapp"}


def build_context(customer: Customer) -> CustomerContext:
    customer = live_customer(customer)
    conversation = customer.conversation
    identities = [
        IdentityView(i.kind, i.value, i.verified_at is not None, i.opted_out_at is not None)
        for i in customer.identities.order_by("kind", "created_at")
    ]
    consent: dict[str, bool] = {}
    for identity in identities:
        channel = _CONSENT_CHANNEL.get(identity.kind)
        if channel:
            consent[channel] = consent.get(channel, False) or not identity.opted_out
    channels_used = [
        row["channel"]
        for row in conversation.events.filter(direction=Event.Direction.IN)
        .values("channel")
        .annotate(last=Max("occurred_at"))
        .order_by("-last")
    ]
    recent = list(conversation.events.order_by("-seq")[:RECENT_TOUCHPOINTS])
    open_case = (
        Case.objects.filter(pk=conversation.current_case_id).first()
        if conversation.current_case_id
        else None
    )
    parts, extra = _provided(customer)
    return CustomerContext(
        customer=customer,
        name=customer.display_name,
        identities=identities,
        consent=consent,
        channels_used=channels_used,
        last_channel=conversation.last_channel,
        recent=recent,
        open_case=open_case,
        parts=parts,
        extra=extra,
    )


def _provided(customer: Customer) -> tuple[dict[type, ContextPart], dict[str, Any]]:
    contributions = []
    provide: Callable[[Customer], Any]
    for provide in plugins.enabled("context_providers"):
        try:
            contributions.append(provide(customer))
        except Exception:
            # A greeting without the cart beats a widget or agent panel that fails to open.
            logger.exception("context provider %s failed", provide.__qualname__)
    return _collect(contributions)


class HeadlinePart(Protocol):
    sql: str  # a scalar subquery over the customer row `c`

    def params(self) -> dict[str, Any]: ...

    def parse(self, value: Any) -> ContextPart | list[ContextPart]: ...


@dataclass(frozen=True)
class OpenCase:
    pk: int
    opened_at: datetime


@dataclass(frozen=True)
class Headline(_Parts):
    """What a greeting needs: read with the same names as CustomerContext's fields."""

    customer_id: int
    name: str
    open_case: OpenCase | None = None
    parts: dict[type, ContextPart] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # the parts' JSON view, as the context's


_HEADLINE_SELECT = """
SELECT c.id, c.display_name, k.id, k.opened_at{parts}
FROM conversations_customer c
JOIN conversations_conversation v ON v.customer_id = c.id
LEFT JOIN conversations_case k ON k.id = v.current_case_id
"""
_BY_IDENTITY = """
JOIN conversations_identity i ON i.customer_id = c.id
WHERE i.kind = %(identity_kind)s AND i.value = %(identity_value)s
"""
_BY_ID = "WHERE c.id = %(customer_id)s"


def headline_for(kind: str, value: str) -> Headline | None:
    """The headline of the customer holding identity `(kind, value)`, None if unknown.

    Identities always belong to the live customer (merges move them), so no merge chain
    is followed here.
    """
    return _headline(_BY_IDENTITY, {"identity_kind": kind, "identity_value": value})


def headline_of(customer_id: int) -> Headline | None:
    """The headline of customer `customer_id` as stored (no merge chain is followed: the
    caller names the live customer, as the customer of a case's conversation is), None
    if there is no such customer."""
    return _headline(_BY_ID, {"customer_id": customer_id})


def _headline(where: str, params: dict[str, Any]) -> Headline | None:
    parts: list[HeadlinePart] = plugins.enabled("headline_parts")
    for part in parts:
        params.update(part.params())
    sql = _HEADLINE_SELECT.format(parts="".join(f", ({part.sql})" for part in parts)) + where
    with statements.cursor() as cursor:  # prepared: planning it costs more than running it
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    customer_id, name, case_id, opened_at, *values = row
    provided, extra = _collect(
        [part.parse(part_value) for part, part_value in zip(parts, values, strict=True)]
    )
    return Headline(
        customer_id=customer_id,
        name=name,
        open_case=OpenCase(case_id, opened_at) if case_id is not None else None,
        parts=provided,
        extra=extra,
    )


def greeting(context: CustomerContext | Headline) -> str:
    """The widget's opening line: about what the customer is doing now, else the default.

    Plain text (the widget escapes it). The default is the setting WIDGET_DEFAULT_GREETING.
    """
    in_store = context.part(InStore)
    if in_store and in_store.visit:  # standing in front of it beats anything she did online
        visit = in_store.visit
        return (
            f"You're looking at the {visit.product_name} at {visit.store_name}"
            " — what would you like to know?"
        )
    current = context.part(CurrentIntent)
    intent = current.intent if current else None
    if intent is None:
        pass
    elif intent.kind == "evaluating" and intent.name:
        return f"Can I help you with your evaluation of the {intent.name}?"
    elif intent.kind == "checkout":
        return "Need a hand finishing your order? I'm here if anything is unclear."
    elif intent.kind == "cart":
        if len(intent.names) == 1:
            return f"Any questions about the {intent.names[0]} in your cart?"
        return (
            f"Any questions about the {intent.item_count or len(intent.names)} items in your cart?"
        )
    return getattr(settings, "WIDGET_DEFAULT_GREETING", "") or DEFAULT_GREETING
