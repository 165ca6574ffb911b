"""The journal: the one entry point that writes events (docs/subsystems/journal.md).

Every adapter, the API, the admin and the Celery tasks call `record`. It takes the
conversation row lock, hands out the next gap-free `seq`, inserts the event, keeps the
inbox summary and the current case up to date, writes the event's hand-over to its
reactions (a `PendingReaction` row, in the same statement: reactions.py) and, after
commit, broadcasts the event, calls THROUGHLINE_EVENT_HOOKS and wakes a `react` up.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime
from functools import partial

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from base import plugins
from conversations import details, first_contact, reactions, statements
from conversations.broadcast import (
    broadcast_on_commit,
)
from conversations.locks import conversation_for_update
from conversations.models import Case, Conversation, Customer, Event, PendingReaction

logger = logging.getLogger(__name__)

# Inbound kinds that ask something of the shop: they open a case when none is open.
NEED_KINDS = frozenset({"message", "call", "voicemail"})


def record(
    *,
    customer: Customer | None = None,
    identity: tuple[str, str] | None = None,
    channel: str,
    kind: str,
    direction: str,
    body: str = "",
    data: dict | None = None,
    source_id: str | None = None,
    occurred_at: datetime | None = None,
    author=None,
    delivery_status: str = "",
    unknown_sender: bool = False,
    detail: models.Model | None = None,
) -> Event:
    """Append one event to the customer's conversation and return it.

    Idempotent on `(channel, source_id)`: a repeat returns the original event, unchanged.
    The unique constraint finds repeats, so a first delivery costs no extra lookup.

    Give the `customer`, or for inbound traffic the sender's normalised `identity`
    (`("phone", "+14155550132")`): then a known sender costs no separate lookup (it runs
    inside the append), and a new one is created as `resolve_customer` does.
    `unknown_sender=True` says the caller has just found nobody with that identity (the
    voice greeting looked): the first-contact statement is then tried first.

    `detail` is an unsaved row of a channel's own that belongs to the event (an email's
    `Mail`), its foreign key to the event unset: it is written with the event, in the
    same statement or transaction (conversations/details.py). A repeat writes none: the
    detail's `pk` stays None.
    """
    if (customer is None) == (identity is None):
        raise TypeError("record() takes a customer or an identity, not both or neither.")
    now = timezone.now()
    event = Event(
        seq=0,  # handed out under the conversation's row lock
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
    if author is None or direction != Event.Direction.OUT:
        if identity is not None and unknown_sender:
            row = _first_contact(event, identity, detail)
            if row is not None:
                return _appended(event, row, detail)
        appended = _append_in_one_statement(
            event, customer=customer, identity=identity, detail=detail
        )
        if appended is not None:
            return appended
        if identity is not None and not unknown_sender:
            row = _first_contact(event, identity, detail)
            if row is not None:
                return _appended(event, row, detail)  # a new sender after all: one statement
    if customer is None:
        if event.source_id is not None and (existing := _recorded(event.channel, event.source_id)):
            # A repeat from a sender nobody has (an erasure keeps Twilio's ids): write no
            # customer for it, as the first-contact statement writes none.
            return existing
        # identities imports this module (merges record events): import at call time
        from conversations.identities import resolve_customer

        assert identity is not None  # record() took one of the two
        customer = resolve_customer(*identity)
    return _append_under_lock(customer, event, detail)


def _first_contact(event: Event, identity: tuple[str, str], detail: models.Model | None = None):
    opens_case = event.direction == Event.Direction.IN and event.kind in NEED_KINDS
    return first_contact.append(event, identity=identity, opens_case=opens_case, detail=detail)


def _append_under_lock(
    customer: Customer, event: Event, detail: models.Model | None = None
) -> Event:
    """The general path: lock the conversation, follow merges, open a case if needed."""
    with transaction.atomic():
        conversation = conversation_for_update(customer)
        if event.source_id is not None and (existing := _recorded(event.channel, event.source_id)):
            return existing  # a concurrent delivery committed while we waited for the lock
        event.conversation = conversation
        event.case_id = _case_for(
            conversation,
            direction=event.direction,
            kind=event.kind,
            occurred_at=event.occurred_at,
            now=event.recorded_at,
        )
        event.seq = conversation.last_seq + 1
        if event.source_id is None:
            event.save(force_insert=True)  # nothing to collide with: seq is ours under the lock
        else:
            try:
                with transaction.atomic():
                    event.save(force_insert=True)
            except IntegrityError:
                # The same source id arrived for another customer at the same moment: answer
                # with that event and undo all this append did (such as a case it opened).
                existing = Event.objects.get(channel=event.channel, source_id=event.source_id)
                transaction.set_rollback(True)
                return existing
        if detail is not None:
            details.save(detail, event)
        _summarise(conversation, event)
        if reactions.handing_over():  # the hand-over commits with the event
            PendingReaction.objects.create(event_id=event.pk, recorded_at=event.recorded_at)
        broadcast_on_commit(event, conversation, handover=reactions.handover([event]))
        _run_hooks_on_commit(event)
    return event


# The common append as one statement: bump the conversation's seq and summary (its row lock
# serialises writers exactly as SELECT ... FOR NO KEY UPDATE does) and insert the event.
# No row comes back when the general path is needed: the conversation was merged away, or
# this event must open a case. `pending` is the reactions' hand-over, in the same commit
# (docs/subsystems/reactions.md). See docs/subsystems/journal.md.
_APPEND_TEMPLATE = """
WITH conversation AS (
    UPDATE conversations_conversation SET
        last_seq = last_seq + 1,
        last_event_at = GREATEST(last_event_at, %(at)s),
        last_inbound_at = CASE WHEN %(inbound)s
            THEN GREATEST(last_inbound_at, %(at)s) ELSE last_inbound_at END,
        last_outbound_at = CASE WHEN %(outbound)s
            THEN GREATEST(last_outbound_at, %(at)s) ELSE last_outbound_at END,
        last_channel = CASE WHEN %(inbound)s
            AND (last_inbound_at IS NULL OR %(at)s >= last_inbound_at)
            THEN %(channel)s ELSE last_channel END,
        unread_count = unread_count + %(unread)s
    WHERE customer_id = {customer} AND status <> 'merged'
        AND (current_case_id IS NOT NULL OR NOT %(opens_case)s)
    RETURNING id, customer_id, last_seq, current_case_id, status, priority, last_channel,
        unread_count, last_inbound_at
), event AS (
    INSERT INTO conversations_event (conversation_id, seq, case_id, channel, direction, kind,
        body, data, occurred_at, recorded_at, source_id, delivery_status, author_id)
    SELECT id, last_seq, current_case_id, %(channel)s, %(direction)s, %(kind)s, %(body)s,
        %(data)s, %(at)s, %(recorded_at)s, %(source_id)s, %(delivery_status)s, %(author)s
    FROM conversation
    RETURNING id
), pending AS (
    INSERT INTO conversations_pendingreaction (event_id, recorded_at)
    SELECT id, %(recorded_at)s FROM event WHERE %(handover)s
)
SELECT event.id, conversation.* FROM event, conversation
"""
_APPEND_SQL = _APPEND_TEMPLATE.replace("{customer}", "%(customer)s")
# The sender's lookup inside the append: no row for an unknown sender either.
_APPEND_BY_IDENTITY_SQL = _APPEND_TEMPLATE.replace(
    "{customer}",
    "(SELECT customer_id FROM conversations_identity"
    " WHERE kind = %(identity_kind)s AND value = %(identity_value)s)",
)


def _append_in_one_statement(
    event: Event,
    *,
    customer: Customer | None,
    identity: tuple[str, str] | None,
    detail: models.Model | None = None,
) -> Event | None:
    """Append in one round trip; None when the general path must do it."""
    inbound = event.direction == Event.Direction.IN
    whose: dict[str, object]
    if customer is not None:
        sql, whose = _APPEND_SQL, {"customer": customer.pk}
    else:
        assert identity is not None  # record() took one of the two
        sql, whose = (
            _APPEND_BY_IDENTITY_SQL,
            {"identity_kind": identity[0], "identity_value": identity[1]},
        )
    params = {
        **whose,
        "at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "inbound": inbound,
        "outbound": event.direction == Event.Direction.OUT,
        "unread": int(inbound and event.kind == "message"),
        "opens_case": inbound and event.kind in NEED_KINDS,
        "channel": event.channel,
        "direction": event.direction,
        "kind": event.kind,
        "body": event.body,
        "data": Event._meta.get_field("data").get_db_prep_save(event.data, connection),
        "source_id": event.source_id,
        "delivery_status": event.delivery_status,
        "author": event.author_id,  # a note's or a case change's, say
        "handover": reactions.handing_over(),
    }
    if detail is not None:  # the detail row in the same statement
        sql = details.statement(sql, type(detail))
        params.update(details.params(detail))
    try:
        # Alone, the statement is its own transaction; inside a caller's, a savepoint keeps
        # a source-id collision from spoiling it.
        savepoint = transaction.atomic() if connection.in_atomic_block else nullcontext()
        with savepoint, statements.cursor() as cursor:  # prepared, planned once
            cursor.execute(sql, params)
            row = cursor.fetchone()
    except IntegrityError:
        # a repeat of a recorded source id (a retried webhook, or two deliveries at once)
        existing = _recorded(event.channel, event.source_id) if event.source_id else None
        if existing is None:
            raise
        return existing
    return None if row is None else _appended(event, row, detail)


def _appended(event: Event, row, detail: models.Model | None = None) -> Event:
    """The event an append statement wrote, from its row (event id, conversation summary,
    then the detail's id when it wrote one); its broadcast and hooks are set to run after
    commit."""
    if detail is not None:
        *row, detail_id = row
    event_id, *summary = row
    conversation = _summary_from_row(summary)
    event.pk, event.conversation = event_id, conversation
    event.seq, event.case_id = conversation.last_seq, conversation.current_case_id
    event._state.adding = False
    if detail is not None:
        details.written(detail, event, detail_id)
    broadcast_on_commit(event, conversation, handover=reactions.handover([event]))
    _run_hooks_on_commit(event)
    return event


def _summary_from_row(row) -> Conversation:
    """The conversation summary an append's RETURNING gives (for the inbox broadcast):
    id, customer_id, last_seq, current_case_id, status, priority, last_channel,
    unread_count, last_inbound_at."""
    pk, customer_id, seq, case_id, status, priority, last_channel, unread, last_in = row
    return Conversation(
        pk=pk,
        customer_id=customer_id,
        last_seq=seq,
        current_case_id=case_id,
        status=status,
        priority=priority,
        last_channel=last_channel,
        unread_count=unread,
        last_inbound_at=last_in,
    )


def _recorded(channel: str, source_id: str) -> Event | None:
    return Event.objects.filter(channel=channel, source_id=source_id).first()


def _case_for(
    conversation: Conversation,
    *,
    direction: str,
    kind: str,
    occurred_at: datetime,
    now: datetime,
) -> int | None:
    """The id of the case this event belongs to, opening one when an inbound need finds none.

    A late need, one that happened before a case was resolved, opens nothing: it joins the
    resolved case of its time, which stays resolved (docs/subsystems/journal.md, "Late
    events").
    """
    if (
        conversation.current_case_id is None
        and direction == Event.Direction.IN
        and kind in NEED_KINDS
    ):
        if (late := _resolved_after(conversation, occurred_at)) is not None:
            return late
        case = Case.objects.create(conversation=conversation, opened_at=now)
        conversation.current_case = case
        conversation.status = Conversation.Status.OPEN
        conversation.priority = case.priority
    return conversation.current_case_id


def _resolved_after(conversation: Conversation, occurred_at: datetime) -> int | None:
    """The first case resolved after `occurred_at`, if any.

    A resolution leaves an event in the conversation (cases.resolve_case records one
    just before, a merge just after), so an event no older than the conversation's last
    one is not late (give or take the instant a resolution takes): live traffic costs no
    query here.
    """
    if conversation.last_event_at is None or occurred_at >= conversation.last_event_at:
        return None
    return (
        Case.objects.filter(
            conversation=conversation, status=Case.Status.RESOLVED, resolved_at__gt=occurred_at
        )
        .order_by("resolved_at")
        .values_list("pk", flat=True)
        .first()
    )


def _summarise(conversation: Conversation, event: Event) -> None:
    """Keep the inbox summary on the conversation row, so the inbox never reads events."""
    at = event.occurred_at
    conversation.last_seq = event.seq
    conversation.last_event_at = max(filter(None, [conversation.last_event_at, at]))
    if event.direction == Event.Direction.IN:
        if conversation.last_inbound_at is None or at >= conversation.last_inbound_at:
            conversation.last_channel = event.channel  # a late event is not the last word
        conversation.last_inbound_at = max(filter(None, [conversation.last_inbound_at, at]))
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


def _event_hooks() -> list:
    return plugins.enabled("event_hooks")


def _run_hooks_on_commit(event: Event) -> None:
    for hook in _event_hooks():
        transaction.on_commit(partial(_run_hook, hook, event), robust=True)
    reactions.react_on_commit(event)


def _run_hook(hook, event: Event) -> None:
    try:
        hook(event)
    except Exception:
        # One broken hook must not stop the others nor fail a request that already committed.
        logger.exception("event hook %s failed for event %s", hook.__qualname__, event.pk)
