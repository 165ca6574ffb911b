"""What commerce does when two customers merge (THROUGHLINE_MERGE_HOOKS).

Called by `conversations.identities.merge_customers` inside its transaction, with both
customers and conversations locked, so nothing here races an ingest for either customer.
"""

from __future__ import annotations

from django.db import connection
from django.db.models.functions import Greatest

from conversations import merges
from conversations.models import Customer

from .models import Cart, Order, ProductInterest

# The survivor's interest in a product both viewed adds up; each row it inserts or
# updates is recorded (the columns before and after) so an unmerge can take it back.
_MERGE_INTERESTS_SQL = f"""
WITH before AS (
    SELECT id, jsonb_build_object('views', views, 'first_viewed_at', first_viewed_at,
        'last_viewed_at', last_viewed_at) AS old
    FROM commerce_productinterest
    WHERE customer_id = %(survivor)s AND product_id IN (
        SELECT product_id FROM commerce_productinterest WHERE customer_id = %(merged)s)
), upserted AS (
    INSERT INTO commerce_productinterest AS kept
        (customer_id, product_id, views, first_viewed_at, last_viewed_at)
    SELECT %(survivor)s, product_id, views, first_viewed_at, last_viewed_at
    FROM commerce_productinterest WHERE customer_id = %(merged)s
    ON CONFLICT (customer_id, product_id) DO UPDATE SET
        views = kept.views + EXCLUDED.views,
        first_viewed_at = LEAST(kept.first_viewed_at, EXCLUDED.first_viewed_at),
        last_viewed_at = GREATEST(kept.last_viewed_at, EXCLUDED.last_viewed_at)
    RETURNING id, jsonb_build_object('customer_id', customer_id, 'views', views,
        'first_viewed_at', first_viewed_at, 'last_viewed_at', last_viewed_at) AS new
)
{merges.RECORD}
SELECT %(merge)s, 'commerce_productinterest', u.id,
    CASE WHEN b.id IS NULL THEN 'added' ELSE 'changed' END, '', %(survivor)s, NULL, NULL,
    b.old, u.new
FROM upserted u LEFT JOIN before b ON b.id = u.id
"""  # noqa: S608


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
    merge = merges.in_progress(survivor, merged)  # provenance: an unmerge undoes all this
    if len(active) == 2:
        merges.change_rows(
            merge,
            Cart,
            ids=[active[0].pk],
            values={"status": Cart.Status.MERGED},
            from_customer=active[0].customer_id,
        )
    merges.move_customer_rows(merge, Cart)
    merges.move_customer_rows(merge, Order)
    with connection.cursor() as cursor:
        cursor.execute(
            _MERGE_INTERESTS_SQL,
            {"survivor": survivor.pk, "merged": merged.pk, "merge": merge.pk},
        )
    merges.remove_rows(merge, ProductInterest, "customer_id", value=merged.pk)
