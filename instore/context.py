"""What instore adds to the customer context (a `context_providers` plug): the core's
`InStore` part.

Its `visit` is the customer's latest scan within INSTORE_PRESENCE_MINUTES, or None: the
store, the product, the placement and when (JSON view `in_store`: `{"store": {...},
"product": {...}, "placement": {...}, "scanned_at": ISO 8601}`). The greeting, the agent
panel and routing read it ("she is in Downtown, at the T900"). One indexed query: the
customer's most recent scan. The same SQL is the headline part (a
`headline_parts` plug) the voice greeting reads in its one query.
Scans carry their customer (kept by merges and splits, instore/scans.py), so it is one
probe of `scan_customer_recent_idx`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from conversations.context import InStore, Visit
from conversations.models import Customer


class Presence:
    """The latest scan as JSON, built by PostgreSQL: a scalar subquery over customer `c`."""

    sql = """
    SELECT json_build_object(
        'store', json_build_object('id', st.id, 'name', st.name, 'time_zone', st.time_zone),
        'product', json_build_object(
            'id', p.id, 'sku', p.sku, 'name', p.name, 'price', p.price::text,
            'currency', p.currency),
        'placement', json_build_object('id', pl.id, 'label', pl.label),
        'scanned_at', s.scanned_at)
    FROM instore_scan s
    JOIN instore_store st ON st.id = s.store_id
    JOIN instore_placement pl ON pl.id = s.placement_id
    JOIN commerce_product p ON p.id = pl.product_id
    WHERE s.customer_id = c.id AND s.scanned_at >= %(instore_present_since)s
    ORDER BY s.scanned_at DESC
    LIMIT 1
    """

    def params(self) -> dict[str, Any]:
        since = timezone.now() - timedelta(minutes=settings.INSTORE_PRESENCE_MINUTES)
        return {"instore_present_since": since}

    def parse(self, value: dict | None) -> InStore:
        if value is None:
            return InStore(None)
        return InStore(
            Visit(
                store=value["store"],
                product=value["product"],
                placement=value["placement"],
                # written as Python writes it, as the rest of the context is
                scanned_at=datetime.fromisoformat(value["scanned_at"]).isoformat(),
            )
        )


HEADLINE = Presence()
# One customer's presence, through the very SQL of the headline part.
_PRESENCE_OF = f"SELECT ({HEADLINE.sql}) FROM conversations_customer c WHERE c.id = %(customer)s"  # noqa: S608 (constant SQL)


def provide(customer: Customer) -> InStore:
    with connection.cursor() as cursor:
        cursor.execute(_PRESENCE_OF, {**HEADLINE.params(), "customer": customer.pk})
        row = cursor.fetchone()
    return HEADLINE.parse(row[0] if row else None)
