"""What instore adds to the customer context (THROUGHLINE_CONTEXT_PROVIDERS): `in_store`.

`in_store` is the customer's latest scan within INSTORE_PRESENCE_MINUTES, or None:
`{"store": {...}, "product": {...}, "placement": {...}, "scanned_at": ISO 8601}`. The
greeting, the agent panel and routing read it ("she is in Downtown, at the T900").
One indexed query: the customer's visitor ids, their most recent scan.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from conversations.models import Customer, Identity

from .models import Scan


def provide(customer: Customer) -> dict:
    since = timezone.now() - timedelta(minutes=settings.INSTORE_PRESENCE_MINUTES)
    visitor_ids = Identity.objects.filter(customer=customer, kind=Identity.Kind.VISITOR).values(
        "value"
    )
    scan = (
        Scan.objects.filter(visitor_id__in=visitor_ids, scanned_at__gte=since)
        .select_related("store", "placement__product")
        .order_by("-scanned_at")
        .first()
    )
    return {"in_store": _presence(scan) if scan else None}


def _presence(scan: Scan) -> dict:
    product, store, placement = scan.placement.product, scan.store, scan.placement
    return {
        "store": {"id": store.pk, "name": store.name, "time_zone": store.time_zone},
        "product": {
            "id": product.pk,
            "sku": product.sku,
            "name": product.name,
            "price": str(product.price) if product.price is not None else None,
            "currency": product.currency,
        },
        "placement": {"id": placement.pk, "label": placement.label},
        "scanned_at": scan.scanned_at.isoformat(),
    }
