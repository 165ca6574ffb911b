"""Phone calls on the journal: `update_call_status` and `annotate_call`.

A call is one `call` event (the provider's call id as its source id) that changes as the
call goes on. Providers report progress in callbacks that arrive out of order and
sometimes twice, so the status only moves forward along CALL_STATUS_RANK; within one rank
a higher sequence number wins, and a final status never changes again. Recordings,
transcripts and routing notes are merged into the event's data in whatever order they
come. The status is mirrored into `delivery_status`, which the timeline already shows
and broadcasts (conversations/delivery.py does the same for messages).
"""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.expressions import CombinedExpression

from conversations.broadcast import broadcast_status_on_commit
from conversations.models import Event

# Twilio's call statuses, by how far along a call is. Rank 4 is final.
CALL_STATUS_RANK = {
    "queued": 1,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "answered": 3,
    "completed": 4,
    "busy": 4,
    "no-answer": 4,
    "canceled": 4,
    "failed": 4,
}
FINAL_RANK = 4


def is_final(status: str) -> bool:
    return CALL_STATUS_RANK.get(status, 0) == FINAL_RANK


def update_call_status(
    event: Event,
    status: str,
    *,
    sequence: int | None = None,
    duration: int | None = None,
) -> bool:
    """Move a call event's status forward, never back; True if it moved.

    The event row is locked while its data is read and written, so two callbacks at once
    apply one after the other. `duration` (seconds) is kept with the final status.
    """
    rank = CALL_STATUS_RANK.get(status)
    if rank is None:
        raise ValueError(f"Unknown call status {status!r}.")
    with transaction.atomic():
        locked = Event.objects.select_for_update(no_key=True).get(pk=event.pk)
        data = dict(locked.data)
        current = CALL_STATUS_RANK.get(data.get("status", ""), 0)
        seen = data.get("sequence", -1)
        newer = rank > current or (
            rank == current and rank != FINAL_RANK and sequence is not None and sequence > seen
        )
        if not newer:
            return False
        data["status"] = status
        if sequence is not None:
            data["sequence"] = max(sequence, seen)
        if duration is not None:
            data["duration"] = duration
        Event.objects.filter(pk=event.pk).update(data=data, delivery_status=status)
        event.data, event.delivery_status = data, status
        event.conversation_id, event.seq = locked.conversation_id, locked.seq
        broadcast_status_on_commit(event)
    return True


def annotate_call(event: Event, **fields) -> None:
    """Merge these keys into the call event's data in one UPDATE (last writer per key wins)."""
    Event.objects.filter(pk=event.pk).update(
        data=CombinedExpression(
            F("data"), "||", Value(fields, models.JSONField()), output_field=models.JSONField()
        )
    )
    event.data = {**event.data, **fields}
