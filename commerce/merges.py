"""What commerce does when two customers merge (THROUGHLINE_MERGE_HOOKS).

Called by `conversations.identities.merge_customers` inside its transaction, with both
customers and conversations locked, so nothing here races an ingest for either customer.
"""

from __future__ import annotations

from django.db import connection
from django.db.models.functions import Greatest

from conversations.models import Customer

from .models import Cart, Order, ProductInterest

_MERGE_INTERESTS_SQL = """
INSERT INTO commerce_productinterest AS kept
    (customer_id, product_id, views, first_viewed_at, last_viewed_at)
SELECT %(survivor)s, product_id, views, first_viewed_at, last_viewed_at
FROM commerce_productinterest WHERE customer_id = %(merged)s
ON CONFLICT (customer_id, product_id) DO UPDATE SET
    views = kept.views + EXCLUDED.views,
    first_viewed_at = LEAST(kept.first_viewed_at, EXCLUDED.first_viewed_at),
    last_viewed_at = GREATEST(kept.last_viewed_at, EXCLUDED.last_viewed_at)
"""


def move_to_survivor(*, survivor: Customer, merged: Customer) -> None:
    """Move carts, orders and product interest from `merged` to `survivor`, losing nothing.

    Both may have an active cart; a customer has one at most, so the one touched last
    (snapshot or checkout, by the shop's clock) stays active and the other is kept as
    `merged` (its items stay with it).
    """
    active = list(
        Cart.objects.filter(customer__in=[survivor, merged], status__in=Cart.ACTIVE).order_by(
            # GREATEST skips NULLs: a cart without a snapshot counts from its checkout
            Greatest("snapshot_at", "checkout_started_at", "created_at"),
            "pk",
        )
    )
    if len(active) == 2:
        Cart.objects.filter(pk=active[0].pk).update(status=Cart.Status.MERGED)
    Cart.objects.filter(customer=merged).update(customer=survivor)
    Order.objects.filter(customer=merged).update(customer=survivor)
    with connection.cursor() as cursor:
        cursor.execute(_MERGE_INTERESTS_SQL, {"survivor": survivor.pk, "merged": merged.pk})
    ProductInterest.objects.filter(customer=merged).delete()
