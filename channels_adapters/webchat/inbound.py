"""Shopper traffic from the widget into the journal: messages and tracked events."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction
from django.utils.module_loading import import_string

from conversations import consent, consent_review, journal, revocation
from conversations.models import Customer, Event
from conversations.visitors import become_customer, customer_of

MAX_BODY_CHARS = 2000
MAX_CLIENT_ID_CHARS = 64
TRACK_TYPES = frozenset(
    {"page_viewed", "product_viewed", "cart_updated", "checkout_started", "order_placed"}
)


def visitor_customer(visitor_id: str) -> Customer:
    """The customer behind a widget visitor, made now if the visitor was anonymous: call
    it only for something worth keeping (a message, a tracked event, an identify)."""
    return become_customer(visitor_id)


def known_customer(visitor_id: str) -> Customer | None:
    """The customer behind a widget visitor, or None while anonymous; writes nothing."""
    return customer_of(visitor_id)


def receive_message(*, visitor_id: str, client_id: str, body: str) -> Event:
    """Record one shopper message; a resend with the same client id returns the first event.

    The source id is namespaced by the visitor, so one visitor's ids can never reach (or
    reveal) another's events under the unique `(channel, source_id)`. A stop in words
    ("stop texting me", "no más mensajes") is honoured like the "Stop messages" button;
    one that may be a stop is flagged for an agent (docs/widget.md, "Stopping messages").
    """
    said = revocation.classify(body)
    record = lambda: journal.record(  # noqa: E731 (the same call, inside or outside)
        customer=visitor_customer(visitor_id),
        channel=Event.Channel.WEB,
        kind="message",
        direction=Event.Direction.IN,
        body=body,
        data={"revocation": said.kind} if said else None,
        source_id=f"{visitor_id}:{client_id}",
    )
    if not said:
        return record()
    with transaction.atomic():  # the message and what it stops, or neither
        event = record()
        customer = event.conversation.customer
        if not Event.objects.filter(
            conversation_id=event.conversation_id, kind="consent", data__message=event.pk
        ).exists():  # a resend is honoured once
            if said.kind == revocation.DEFINITIVE:
                consent.opt_out_customer(
                    customer, source="web:revocation", channel=Event.Channel.WEB, words=body,
                    message=event,
                )  # fmt: skip
            else:
                consent_review.flag_revocation(
                    None, customer=customer, words=said.words, source="web:possible stop",
                    channel=Event.Channel.WEB, message=event,
                )  # fmt: skip
    return event


def stop_messages(*, visitor_id: str) -> list[Event]:
    """The widget's "Stop messages": every address of the shopper opts out, and marketing
    stops on every channel (the consent ledger)."""
    return consent.opt_out_customer(
        visitor_customer(visitor_id),
        source="web:stop button",
        channel=Event.Channel.WEB,
        words="Stop messages (the widget's button)",
    )


def track(
    *,
    visitor_id: str,
    type: str,  # the events API's own word
    payload: dict,
    event_id: str = "",
    occurred_at: datetime | None = None,
):
    """Feed a `Throughline.track(type, props)` call to the events API's ingestion, as the
    shop's servers would, for the browsing visitor."""
    # namespaced like messages: a visitor cannot collide with (or replay) others' event ids
    event_id = f"web:{visitor_id}:{event_id or uuid.uuid4().hex}"
    ingest_event = _ingest_event()
    if ingest_event is not None:
        # checked before the visitor becomes a customer: a refused event leaves no one behind
        validate_event = import_string("commerce.validation.validate_event")
        validate_event(event_id=event_id, type=type, payload=payload, occurred_at=occurred_at)
        return ingest_event(
            customer=visitor_customer(visitor_id),
            event_id=event_id,
            type=type,
            payload=payload,
            occurred_at=occurred_at,
            channel="web",
        )
    # Without commerce/ (an install that left it out) the events still reach the journal.
    kind = {"cart_updated": "cart", "order_placed": "order"}.get(type, type)
    return journal.record(
        customer=visitor_customer(visitor_id),
        channel=Event.Channel.WEB,
        kind=kind,
        direction=Event.Direction.INTERNAL,  # shop activity, not the customer talking
        body=type.replace("_", " ").capitalize(),
        data={"type": type, "payload": payload},
        source_id=event_id[:128],
        occurred_at=occurred_at,
    )


def _ingest_event():
    try:
        return import_string("commerce.ingest.ingest_event")
    except ImportError:
        return None
