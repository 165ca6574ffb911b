"""Attribution: a sent nudge followed by a reply, an order or an opt-out within
ENGAGEMENT_ATTRIBUTION_DAYS is marked so (`replied_at`, `ordered_at`, `opted_out_at`),
for the insights. One indexed UPDATE per event; the first follow-up of each kind counts,
whatever order the events are processed in (a reaction may run late, twice, or be
replayed: docs/subsystems/reactions.md), so running it again changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from .models import Nudge

FIELDS = ("replied_at", "ordered_at", "opted_out_at")


def attribute(customer_id: int, field: str, at: datetime) -> int:
    """Mark the customer's nudges sent within the window before `at`; return how many."""
    if field not in FIELDS:
        raise ValueError(f"Unknown attribution {field!r}")
    since = at - timedelta(days=settings.ENGAGEMENT_ATTRIBUTION_DAYS)
    # unmarked, or marked by a later follow-up processed first: the earliest one wins
    first = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": at})
    return Nudge.objects.filter(
        first,
        customer_id=customer_id,
        status=Nudge.Status.SENT,
        decided_at__gte=since,
        decided_at__lte=at,
    ).update(**{field: at})
