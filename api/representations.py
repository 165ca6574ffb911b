"""What the API sends for the domain's objects (the schema in schema.py describes them)."""

from __future__ import annotations

from conversations.context import CustomerContext
from conversations.models import Event


def event_json(event: Event) -> dict:
    return {
        "id": event.pk,
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "channel": event.channel,
        "direction": event.direction,
        "kind": event.kind,
        "body": event.body,
        "data": event.data,
        "delivery_status": event.delivery_status,
        "case": event.case_id,
        "source_id": event.source_id,
    }


def context_json(context: CustomerContext) -> dict:
    customer = context.customer
    case = context.open_case
    return {
        "id": customer.pk,
        "name": context.name,
        "created_at": customer.created_at.isoformat(),
        "identities": [
            {
                "kind": identity.kind,
                "value": identity.value,
                "verified": identity.verified,
                "opted_out": identity.opted_out,
            }
            for identity in context.identities
        ],
        "consent": context.consent,
        "channels_used": context.channels_used,
        "last_channel": context.last_channel,
        "last_seq": customer.conversation.last_seq,
        "open_case": {
            "id": case.pk,
            "status": case.status,
            "intent": case.intent,
            "priority": case.priority,
            "opened_at": case.opened_at.isoformat(),
        }
        if case
        else None,
        **context.extra,
    }
