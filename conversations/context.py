"""The customer context: what everyone needs to know about a customer now.

One function, `build_context`, read by the agent panel, the widget and voice greetings
and the nudge templates; `greeting` turns a context into the widget's first words. It
reads a bounded number of rows whatever the length of the history.

Other apps add what they know through THROUGHLINE_CONTEXT_PROVIDERS: dotted paths to
functions called with the (live) customer, each returning a dict merged into
`CustomerContext.extra`. This module never imports them. The keys in use:

- commerce.context.provide: `open_cart`, `cart_value`, `products_viewed`, `last_order`,
  `current_intent` (`{"kind": "evaluating" | "cart" | "checkout", ...}` or None).

`headline_for` is the hot path's cut of it: the name, the open case and the few keys a
greeting reads (`current_intent`, `in_store`), for a sender known by an identity, in ONE
query. A caller waits on the voice webhook's answer, and the full context costs a dozen
queries. Apps add their key through THROUGHLINE_HEADLINE_PARTS: each a `HeadlinePart`
whose SQL is a scalar subquery over the customer `c` (it may use `%(name)s` parameters
from `params()`), and whose `parse` turns the value into the keys it provides, exactly
as its full provider does (the providers read through the same SQL or the same rules).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Max
from django.utils.module_loading import import_string

from conversations import statements
from conversations.identities import live_customer
from conversations.models import Case, Customer, Event

logger = logging.getLogger(__name__)

RECENT_TOUCHPOINTS = 10
DEFAULT_GREETING = "Hi! How can we help you today?"


@dataclass(frozen=True)
class IdentityView:
    kind: str
    value: str
    verified: bool
    opted_out: bool


@dataclass(frozen=True)
class CustomerContext:
    customer: Customer
    name: str
    identities: list[IdentityView]
    # per channel that has a consent notion ("sms", "email"): False once every identity opted out
    consent: dict[str, bool]
    channels_used: list[str]  # channels the customer spoke on, most recent first
    last_channel: str
    recent: list[Event] = field(default_factory=list)  # newest first
    open_case: Case | None = None
    # What THROUGHLINE_CONTEXT_PROVIDERS added (JSON-ready values), keyed as listed above.
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
    return CustomerContext(
        customer=customer,
        name=customer.display_name,
        identities=identities,
        consent=consent,
        channels_used=channels_used,
        last_channel=conversation.last_channel,
        recent=recent,
        open_case=open_case,
        extra=_provided(customer),
    )


def _providers() -> list[Callable[[Customer], dict]]:
    return [import_string(path) for path in getattr(settings, "THROUGHLINE_CONTEXT_PROVIDERS", [])]


def _provided(customer: Customer) -> dict:
    extra: dict = {}
    for provide in _providers():
        try:
            extra.update(provide(customer))
        except Exception:
            # A greeting without the cart beats a widget or agent panel that fails to open.
            logger.exception("context provider %s failed", provide.__qualname__)
    return extra


class HeadlinePart(Protocol):
    sql: str  # a scalar subquery over the customer row `c`

    def params(self) -> dict[str, Any]: ...

    def parse(self, value: Any) -> dict: ...


@dataclass(frozen=True)
class OpenCase:
    pk: int
    opened_at: datetime


@dataclass(frozen=True)
class Headline:
    """What a greeting needs: read with the same names as CustomerContext's fields."""

    customer_id: int
    name: str
    open_case: OpenCase | None = None
    extra: dict = field(default_factory=dict)


_HEADLINE_SQL = """
SELECT c.id, c.display_name, k.id, k.opened_at{parts}
FROM conversations_identity i
JOIN conversations_customer c ON c.id = i.customer_id
JOIN conversations_conversation v ON v.customer_id = c.id
LEFT JOIN conversations_case k ON k.id = v.current_case_id
WHERE i.kind = %(identity_kind)s AND i.value = %(identity_value)s
"""


@cache
def _headline_parts(paths: tuple[str, ...]) -> tuple[HeadlinePart, ...]:
    return tuple(import_string(path) for path in paths)


def headline_for(kind: str, value: str) -> Headline | None:
    """The headline of the customer holding identity `(kind, value)`, None if unknown.

    Identities always belong to the live customer (merges move them), so no merge chain
    is followed here.
    """
    parts = _headline_parts(tuple(getattr(settings, "THROUGHLINE_HEADLINE_PARTS", ())))
    params: dict[str, Any] = {"identity_kind": kind, "identity_value": value}
    for part in parts:
        params.update(part.params())
    sql = _HEADLINE_SQL.format(parts="".join(f", ({part.sql})" for part in parts))
    with statements.cursor() as cursor:  # prepared: planning it costs more than running it
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    customer_id, name, case_id, opened_at, *values = row
    extra: dict = {}
    for part, part_value in zip(parts, values, strict=True):
        extra.update(part.parse(part_value))
    return Headline(
        customer_id=customer_id,
        name=name,
        open_case=OpenCase(case_id, opened_at) if case_id is not None else None,
        extra=extra,
    )


def greeting(context: CustomerContext) -> str:
    """The widget's opening line: about what the customer is doing now, else the default.

    Plain text (the widget escapes it). The default is the setting WIDGET_DEFAULT_GREETING.
    """
    in_store = context.extra.get("in_store")
    if in_store:  # standing in front of it beats anything she did online
        product, store = in_store["product"]["name"], in_store["store"]["name"]
        return f"You're looking at the {product} at {store} — what would you like to know?"
    intent = context.extra.get("current_intent") or {}
    kind = intent.get("kind")
    if kind == "evaluating" and intent.get("name"):
        return f"Can I help you with your evaluation of the {intent['name']}?"
    if kind == "checkout":
        return "Need a hand finishing your order? I'm here if anything is unclear."
    if kind == "cart":
        names = intent.get("names") or []
        if len(names) == 1:
            return f"Any questions about the {names[0]} in your cart?"
        return f"Any questions about the {intent.get('item_count', len(names))} items in your cart?"
    return getattr(settings, "WIDGET_DEFAULT_GREETING", "") or DEFAULT_GREETING
