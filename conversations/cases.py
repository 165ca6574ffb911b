"""Verbs on cases, the agent's unit of work (the journal opens them): `mark_hot`."""

from __future__ import annotations

from django.db import transaction

from . import journal
from .locks import conversation_for_update
from .models import Case, Conversation, Event


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
