"""The journal: the one entry point that writes events (docs/subsystems/journal.md).

Every adapter, the API, the admin and the Celery tasks call `record`. It takes the
conversation row lock, hands out the next gap-free `seq`, inserts the event, keeps the
inbox summary and the current case up to date and, after commit, broadcasts the event
and calls THROUGHLINE_EVENT_HOOKS.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .broadcast import broadcast_on_commit
from .locks import conversation_for_update
from .models import Case, Conversation, Customer, Event

logger = logging.getLogger(__name__)

# Inbound kinds that ask something of the shop: they open a case when none is open.
NEED_KINDS = frozenset({"message", "call", "voicemail"})


def record(
    *,
    customer: Customer,
    channel: str,
    kind: str,
    direction: str,
    body: str = "",
    data: dict | None = None,
    source_id: str | None = None,
    occurred_at: datetime | None = None,
    author=None,
    delivery_status: str = "",
) -> Event:
    """Append one event to the customer's conversation and return it.

    Idempotent on `(channel, source_id)`: a repeat returns the original event, unchanged.
    """
    if source_id is not None and (existing := _recorded(channel, source_id)):
        return existing
    now = timezone.now()
    with transaction.atomic():
        conversation = conversation_for_update(customer)
        if source_id is not None and (existing := _recorded(channel, source_id)):
            return existing  # a concurrent delivery committed while we waited for the lock
        case_id = _case_for(conversation, direction=direction, kind=kind, now=now)
        event = Event(
            conversation=conversation,
            seq=conversation.last_seq + 1,
            case_id=case_id,
            channel=channel,
            direction=direction,
            kind=kind,
            body=body,
            data=data or {},
            occurred_at=occurred_at or now,
            recorded_at=now,
            source_id=source_id,
            delivery_status=delivery_status,
            author=author,
        )
        if source_id is None:
            event.save(force_insert=True)  # nothing to collide with: seq is ours under the lock
        else:
            try:
                with transaction.atomic():
                    event.save(force_insert=True)
            except IntegrityError:
                # The same source id arrived for another customer at the same moment: answer
                # with that event and undo all this append did (such as a case it opened).
                existing = Event.objects.get(channel=channel, source_id=source_id)
                transaction.set_rollback(True)
                return existing
        _summarise(conversation, event)
        broadcast_on_commit(event, conversation)
        _run_hooks_on_commit(event)
    return event


def _recorded(channel: str, source_id: str) -> Event | None:
    return Event.objects.filter(channel=channel, source_id=source_id).first()


def _case_for(
    conversation: Conversation, *, direction: str, kind: str, now: datetime
) -> int | None:
    """The id of the case this event belongs to, opening one when an inbound need finds none."""
    if (
        conversation.current_case_id is None
        and direction == Event.Direction.IN
        and kind in NEED_KINDS
    ):
        case = Case.objects.create(conversation=conversation, opened_at=now)
        conversation.current_case = case
        conversation.status = Conversation.Status.OPEN
        conversation.priority = case.priority
    return conversation.current_case_id


def _summarise(conversation: Conversation, event: Event) -> None:
    """Keep the inbox summary on the conversation row, so the inbox never reads events."""
    at = event.occurred_at
    conversation.last_seq = event.seq
    conversation.last_event_at = max(filter(None, [conversation.last_event_at, at]))
    if event.direction == Event.Direction.IN:
        conversation.last_inbound_at = max(filter(None, [conversation.last_inbound_at, at]))
        conversation.last_channel = event.channel
        if event.kind == "message":
            conversation.unread_count += 1
    elif event.direction == Event.Direction.OUT:
        conversation.last_outbound_at = max(filter(None, [conversation.last_outbound_at, at]))
        if event.case_id is not None and event.author_id is not None:
            # an agent's first answer on the case: the first-response time starts here
            Case.objects.filter(pk=event.case_id, first_response_at=None).update(
                first_response_at=event.recorded_at
            )
    conversation.save(
        update_fields=[
            "last_seq",
            "last_event_at",
            "last_inbound_at",
            "last_outbound_at",
            "last_channel",
            "unread_count",
            "current_case",
            "status",
            "priority",
        ]
    )


@cache
def _event_hooks() -> tuple:
    return tuple(import_string(path) for path in settings.THROUGHLINE_EVENT_HOOKS)


def _run_hooks_on_commit(event: Event) -> None:
    for hook in _event_hooks():
        transaction.on_commit(lambda hook=hook: _run_hook(hook, event), robust=True)


def _run_hook(hook, event: Event) -> None:
    try:
        hook(event)
    except Exception:
        # One broken hook must not stop the others nor fail a request that already committed.
        logger.exception("event hook %s failed for event %s", hook.__qualname__, event.pk)
