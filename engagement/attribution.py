"""Attribution: a sent nudge followed by a reply, an order or an opt-out within
ENGAGEMENT_ATTRIBUTION_DAYS is marked so (`replied_at`, `ordered_at`, `opted_out_at`),
for the insights. One indexed UPDATE per event; the first follow-up of each kind counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from .models import Nudge

FIELDS = ("replied_at", "ordered_at", "opted_out_at")


def attribute(customer_id: int, field: str, at: datetime) -> int:
    """Mark the customer's nudges sent within the window before `at`; return how many."""
    if field not in FIELDS:
        raise ValueError(f"Unknown attribution {field!r}")
    since = at - timedelta(days=settings.ENGAGEMENT_ATTRIBUTION_DAYS)
    return Nudge.objects.filter(
        customer_id=customer_id,
        status=Nudge.Status.SENT,
        decided_at__gte=since,
        decided_at__lte=at,
        **{f"{field}__isnull": True},
    ).update(**{field: at})
