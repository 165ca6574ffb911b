"""Delivery status of outbound messages: one verb, `update_delivery_status`.

Providers report delivery in callbacks that arrive in any order and sometimes twice; the
outbox reports its own steps (pending, unconfirmed, failed). A status only ever moves
forward, so `delivered` followed by a late `sent` stays `delivered`, and every change
reaches the agents' sockets after commit as an `event.status` message.
"""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.expressions import CombinedExpression

from conversations.broadcast import broadcast_status_on_commit
from conversations.models import Event

# How far along a message is, in Twilio's order: queued < sending/sent < delivered,
# undelivered or failed, then `read` (WhatsApp). The statuses ranked 6 are final: nothing
# replaces them, except `read`, which can only follow `delivered` (or a status before it,
# when the `delivered` callback is late): a read receipt never undoes a failure.
DELIVERY_STATUS_RANK = {
    "": 0,
    "pending": 1,  # written to the outbox, not yet handed to the provider
    "accepted": 2,
    "scheduled": 2,
    "queued": 3,
    "sending": 4,
    "unconfirmed": 4,  # the provider call's outcome is unknown (outbox `reconcile`)
    "sent": 5,
    "delivered": 6,
    "undelivered": 6,
    "failed": 6,
    "canceled": 6,
    "read": 7,
}
# "not sent: console backend": a stand-in backend took the message and sent nothing. As
# far along as `sending` (the outbox is done with it), so the timeline never shows it queued
# or delivered; a provider's callback, which only a test fakes for it, may still move it.
NOT_SENT = "not sent: "
NOT_SENT_RANK = 4
MAX_STATUS = 32  # Event.delivery_status


def not_sent(backend: str) -> str:
    """The delivery status of a message a stand-in backend (`backend`) did not send."""
    return (NOT_SENT + backend)[:MAX_STATUS]


def rank_of(status: str) -> int | None:
    if status.startswith(NOT_SENT):
        return NOT_SENT_RANK
    return DELIVERY_STATUS_RANK.get(status)


def update_delivery_status(
    event: Event,
    status: str,
    *,
    error_code: str = "",
    reason: str = "",
    source_id: str | None = None,
) -> bool:
    """Move an outbound event's delivery status forward, never back; True if it moved.

    The check and the write are one conditional UPDATE, so concurrent callbacks cannot
    interleave. `error_code` and `reason` (written for agents, never with a phone number)
    go to `data["delivery_error"]` and `data["delivery_error_reason"]`; `source_id`
    records the provider's id on the event the first time it is known.
    """
    rank = rank_of(status)
    if rank is None:
        raise ValueError(f"Unknown delivery status {status!r}.")
    below = _replaceable_by(status, rank)
    changes: dict = {"delivery_status": status}
    error = {
        key: str(value)
        for key, value in [("delivery_error", error_code), ("delivery_error_reason", reason)]
        if value
    }
    if error:
        changes["data"] = CombinedExpression(
            F("data"), "||", Value(error, models.JSONField()), output_field=models.JSONField()
        )
    with transaction.atomic():
        if source_id:
            Event.objects.filter(pk=event.pk, source_id=None).update(source_id=source_id)
        replaceable = Q(delivery_status__in=below)
        if rank > NOT_SENT_RANK:
            replaceable |= Q(delivery_status__startswith=NOT_SENT)
        moved = Event.objects.filter(replaceable, pk=event.pk).update(**changes)
        if moved:
            event.refresh_from_db(
                fields=["conversation", "seq", "delivery_status", "data", "source_id"]
            )
            broadcast_status_on_commit(event)
    return bool(moved)


_FINAL = 6


def _replaceable_by(status: str, rank: int) -> list[str]:
    """The statuses `status` may replace: those before it, but no final one save
    `delivered` (only `read` outranks a final status)."""
    return [
        name
        for name, r in DELIVERY_STATUS_RANK.items()
        if r < rank and (r < _FINAL or name == "delivered")
    ]
