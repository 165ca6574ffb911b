"""Verbs on cases, the agent's unit of work (the journal opens them): assign, resolve,
snooze, and `mark_hot`.

Automatic assignment (who gets a new case) belongs to routing, which calls these; the
console calls them for an agent's manual moves. Each takes the conversation's row lock
(the journal's), changes the case and leaves an event in the timeline saying who did what
and why, so the console's inbox and the other agents' pages update live through the
journal's broadcast.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from base.inputs import MAX_AHEAD
from conversations import journal
from conversations.locks import conversation_for_update
from conversations.models import Case, Conversation, Event


class CaseClosed(Exception):
    """The case was resolved (by someone else, perhaps): nothing to change."""


def _locked_case(case: Case) -> tuple[Conversation, Case]:
    conversation = conversation_for_update(case.conversation.customer)
    case = Case.objects.select_related("assignee").get(pk=case.pk)
    if case.status == Case.Status.RESOLVED:
        raise CaseClosed(f"Case #{case.pk} is resolved already.")
    return conversation, case


def _trace(conversation: Conversation, *, by, body: str, data: dict) -> Event:
    return journal.record(
        customer=conversation.customer,
        channel=Event.Channel.AGENT,
        kind="case",
        direction=Event.Direction.INTERNAL,
        body=body,
        data={**data, "by": by.pk if by else None, "by_name": str(by) if by else "Throughline"},
        author=by,
    )


def assign_case(case: Case, *, assignee, by) -> Event:
    """Give the case to `assignee` (None: unassign). Raises CaseClosed when resolved."""
    with transaction.atomic():
        conversation, case = _locked_case(case)
        Case.objects.filter(pk=case.pk).update(assignee=assignee)
        body = f"Assigned to {assignee} by {by}" if assignee else f"Unassigned by {by}"
        return _trace(
            conversation,
            by=by,
            body=body,
            data={
                "action": "assign",
                "case": case.pk,
                "assignee": assignee.pk if assignee else None,
                "previous": case.assignee_id,
            },
        )


def resolve_case(case: Case, *, by) -> Event:
    """Close the case: the conversation leaves the inbox until the customer's next need.

    The event is written first so it belongs to the case it closes.
    """
    with transaction.atomic():
        conversation, case = _locked_case(case)
        event = _trace(
            conversation,
            by=by,
            body=f"Case #{case.pk} resolved by {by}",
            data={"action": "resolve", "case": case.pk},
        )
        Case.objects.filter(pk=case.pk).update(
            status=Case.Status.RESOLVED, resolved_at=timezone.now(), resolution="resolved"
        )
        Conversation.objects.filter(pk=conversation.pk, current_case_id=case.pk).update(
            current_case=None, status=Conversation.Status.IDLE, priority=0, unread_count=0
        )
        return event


def snooze_case(case: Case, *, until: datetime, by) -> Event:
    """Hide the case from the inbox until `until`, or until the customer writes again
    (the inbox reads both; no sweep needed)."""
    now = timezone.now()
    if until <= now:
        raise ValueError("Snooze until a time in the future.")
    if until > now + MAX_AHEAD:
        raise ValueError("Snooze for at most a year.")
    with transaction.atomic():
        conversation, case = _locked_case(case)
        Case.objects.filter(pk=case.pk).update(
            status=Case.Status.SNOOZED, snoozed_until=until, snoozed_at=timezone.now()
        )
        return _trace(
            conversation,
            by=by,
            body=f"Snoozed by {by} until {until:%Y-%m-%d %H:%M} UTC",
            data={"action": "snooze", "case": case.pk, "until": until.isoformat()},
        )


def mark_read(conversation: Conversation) -> bool:
    """An agent opened the conversation: its unread count goes back to zero.

    Reading is not a business event, so no journal entry; one conditional UPDATE that
    writes nothing when there was nothing unread.
    """
    return bool(
        Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(unread_count=0)
    )


def mark_hot(case: Case, *, reason: str, data: dict | None = None) -> Event | None:
    """Make an unresolved case hot (first in the inbox); return the `routing` event that
    says why, or None when it was hot already or is resolved."""
    with transaction.atomic():
        conversation = conversation_for_update(case.conversation.customer)
        changed = (
            Case.objects.filter(pk=case.pk, priority__lt=Case.Priority.HOT)
            .exclude(status=Case.Status.RESOLVED)
            .update(priority=Case.Priority.HOT)
        )
        if not changed:
            return None
        Conversation.objects.filter(pk=conversation.pk, current_case_id=case.pk).update(
            priority=Case.Priority.HOT
        )
        case.priority = Case.Priority.HOT
        return journal.record(
            customer=conversation.customer,
            channel=Event.Channel.SYSTEM,
            kind="routing",
            direction=Event.Direction.INTERNAL,
            body=f"Case #{case.pk} is hot: {reason}",
            data={**(data or {}), "action": "hot", "case": case.pk, "reason": reason},
        )
