"""What voice adds to the customer context (THROUGHLINE_CONTEXT_PROVIDERS): `frustration`.

`frustration` is None, or `{"missed_calls": n, "last_missed_at": ISO 8601}` for the
customer's missed calls within VOICE_FRUSTRATION_HOURS: someone who hung up waiting
deserves a call back before anything else. One query over the conversation's events.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from conversations.models import Customer, Event


def provide(customer: Customer) -> dict:
    since = timezone.now() - timedelta(hours=settings.VOICE_FRUSTRATION_HOURS)
    missed = list(
        Event.objects.filter(
            conversation__customer_id=customer.pk, kind="missed_call", occurred_at__gte=since
        )
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)[:20]
    )
    if not missed:
        return {"frustration": None}
    return {"frustration": {"missed_calls": len(missed), "last_missed_at": missed[0].isoformat()}}
