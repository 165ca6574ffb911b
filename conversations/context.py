"""The customer context: what everyone needs to know about a customer now.

One function, `build_context`, read by the agent panel, and later by the widget and voice
greetings and the nudge templates. It reads a bounded number of rows whatever the length
of the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Max

from .identities import live_customer
from .models import Case, Customer, Event

RECENT_TOUCHPOINTS = 10


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


_CONSENT_CHANNEL = {"phone": "sms", "email": "email"}


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
    )
