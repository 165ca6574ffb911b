"""What voice adds to the customer context (a `context_providers` plug): `Frustration`.

The customer's missed calls within VOICE_FRUSTRATION_HOURS (none: `missed_calls` 0):
someone who hung up waiting deserves a call back before anything else. JSON view
`frustration`: None, or `{"missed_calls": n, "last_missed_at": ISO 8601}`. One query over
the conversation's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from conversations.context import ContextPart
from conversations.models import Customer, Event


@dataclass(frozen=True)
class Frustration(ContextPart):
    missed_calls: int = 0
    last_missed_at: datetime | None = None

    def as_extra(self) -> dict[str, Any]:
        if not self.missed_calls or self.last_missed_at is None:
            return {"frustration": None}
        last = self.last_missed_at.isoformat()
        return {"frustration": {"missed_calls": self.missed_calls, "last_missed_at": last}}


def provide(customer: Customer) -> Frustration:
    since = timezone.now() - timedelta(hours=settings.VOICE_FRUSTRATION_HOURS)
    missed = list(
        Event.objects.filter(
            conversation__customer_id=customer.pk, kind="missed_call", occurred_at__gte=since
        )
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)[:20]
    )
    return Frustration(len(missed), missed[0] if missed else None)
