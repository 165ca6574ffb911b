"""What the shop's events leave behind: products, interest, carts and orders.

`apply_events` is called by `commerce.ingest` inside the batch's transaction, after the
journal took the events. It applies them in the order they happened (`occurred_at`),
not the order they arrived: a late event is kept in the journal at its time, and only
changes the state that nothing newer has changed since (docs/subsystems/journal.md,
"Late events"). The cart rules, for one customer:

1. A `cart_updated` snapshot older than the cart's snapshot, or than the customer's
   latest order, is stale: it belonged to a cart that was refreshed or closed since.
2. A `checkout_started` older than the latest order is stale too. Otherwise it puts the
   active cart in checkout, or opens an empty one in checkout when there is none yet (its
   snapshot may still be on its way); the cart keeps the latest checkout time.
3. An `order_placed` closes the active cart. If the cart was touched after the order (the
   order arrived late), only what came before the order closes with it; a snapshot or a
   checkout from after it stays active, as the next cart (`_cut`). The order itself is
   always stored, and snapshots from before it that arrive later are stale (rule 1).

So any arrival order of the same events leaves the same active cart (status, lines,
checkout time) and the same orders; only the history of closed carts may differ (a late
snapshot never rewrites a closed cart's lines). Events with the same `occurred_at` are
applied in arrival order.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Max
from django.utils import timezone

from conversations.models import Event

from .models import Cart, CartItem, Order
from .validation import CommerceEvent

# (customer id, journal event, validated item), as ingest hands them over
Applied = tuple[int, Event, CommerceEvent]

# The catalogue rows the batch mentions, in one statement, returning every id by sku.
# Viewed products are refreshed, though a detail an event leaves out (NULL or "") never
# erases what the catalogue has; products only named by cart or order lines are catalogued
# on first sight and otherwise left as they are (the no-op update lets RETURNING give
# their ids).
_PRODUCTS_SQL = """
WITH v AS (
    SELECT * FROM unnest(%(sku)s::text[], %(name)s::text[], %(price)s::numeric[],
        %(currency)s::text[], %(url)s::text[], %(image)s::text[],
        %(needs_assembly)s::boolean[], %(viewed)s::boolean[])
        AS v(sku, name, price, currency, url, image, needs_assembly, viewed)
), viewed AS (
    INSERT INTO commerce_product AS p (sku, name, price, currency, url, image,
        needs_assembly, created_at, updated_at)
    SELECT sku, name, price, currency, url, image, COALESCE(needs_assembly, false),
        %(now)s, %(now)s
    FROM v WHERE viewed
    ON CONFLICT (sku) DO UPDATE SET
        name = EXCLUDED.name,
        price = COALESCE(EXCLUDED.price, p.price),
        currency = COALESCE(NULLIF(EXCLUDED.currency, ''), p.currency),
        url = COALESCE(NULLIF(EXCLUDED.url, ''), p.url),
        image = COALESCE(NULLIF(EXCLUDED.image, ''), p.image),
        needs_assembly = COALESCE(
            (SELECT v.needs_assembly FROM v WHERE v.sku = EXCLUDED.sku), p.needs_assembly),
        updated_at = EXCLUDED.updated_at
    RETURNING sku, id
), named AS (
    INSERT INTO commerce_product AS p (sku, name, price, currency, url, image,
        needs_assembly, created_at, updated_at)
    SELECT sku, name, NULL, '', '', '', false, %(now)s, %(now)s FROM v WHERE NOT viewed
    ON CONFLICT (sku) DO UPDATE SET sku = EXCLUDED.sku
    RETURNING sku, id
)
SELECT sku, id FROM viewed UNION ALL SELECT sku, id FROM named
"""

# The customers' interest in what they viewed: one row per customer and product.
_INTEREST_SQL = """
INSERT INTO commerce_productinterest AS i
    (customer_id, product_id, views, first_viewed_at, last_viewed_at)
SELECT * FROM unnest(%(customer)s::bigint[], %(product)s::bigint[], %(views)s::int[],
    %(first)s::timestamptz[], %(last)s::timestamptz[])
ON CONFLICT (customer_id, product_id) DO UPDATE SET
    views = i.views + EXCLUDED.views,
    first_viewed_at = LEAST(i.first_viewed_at, EXCLUDED.first_viewed_at),
    last_viewed_at = GREATEST(i.last_viewed_at, EXCLUDED.last_viewed_at)
"""

# The stored carts a batch changed, in one statement (bulk_update's CASE per field and row
# costs more in Python than the database spends on the whole batch).
_CARTS_SQL = """
UPDATE commerce_cart c SET
    status = v.status,
    external_id = v.external_id,
    currency = v.currency,
    value = v.value,
    item_count = v.item_count,
    snapshot_at = v.snapshot_at,
    snapshot_event_id = v.snapshot_event_id,
    checkout_started_at = v.checkout_started_at,
    ordered_at = v.ordered_at,
    created_at = v.created_at,
    updated_at = v.updated_at
FROM unnest(%(id)s::bigint[], %(status)s::text[], %(external_id)s::text[],
    %(currency)s::text[], %(value)s::numeric[], %(item_count)s::int[],
    %(snapshot_at)s::timestamptz[], %(snapshot_event_id)s::bigint[],
    %(checkout_started_at)s::timestamptz[], %(ordered_at)s::timestamptz[],
    %(created_at)s::timestamptz[], %(updated_at)s::timestamptz[])
    AS v(id, status, external_id, currency, value, item_count, snapshot_at,
        snapshot_event_id, checkout_started_at, ordered_at, created_at, updated_at)
WHERE c.id = v.id
"""
_CART_COLUMNS = [
    "status",
    "external_id",
    "currency",
    "value",
    "item_count",
    "snapshot_at",
    "snapshot_event_id",
    "checkout_started_at",
    "ordered_at",
    "created_at",
    "updated_at",
]
_CART_TYPES = frozenset({"cart_updated", "checkout_started", "order_placed"})


def apply_events(applied: list[Applied]) -> None:
    """Update products, interest, carts and orders for a batch's new events.

    `applied` holds (customer id, journal event, item) for each event the journal took.
    Each customer's carts are replayed in memory, in `occurred_at` order, with the rules
    above, then written with bulk statements: the conversation row locks record_many
    holds serialise each customer's writers, so no other transaction changes these carts
    meanwhile.
    """
    if not applied:
        return
    now = timezone.now()
    product_ids = _catalogue(applied, now)
    _count_interest(applied, product_ids)
    shopping = sorted(
        (entry for entry in applied if entry[2].type in _CART_TYPES),
        key=lambda entry: (entry[0], entry[1].occurred_at),  # stable: ties keep arrival order
    )
    if shopping:
        _replay_carts(shopping, product_ids, now)


def _replay_carts(shopping: list[Applied], product_ids: dict[str, int], now: datetime) -> None:
    customer_ids = {customer_id for customer_id, _, _ in shopping}
    active: dict[int, Cart | None] = dict.fromkeys(customer_ids)
    for found in Cart.objects.select_for_update(no_key=True).filter(
        customer_id__in=customer_ids, status__in=Cart.ACTIVE
    ):
        active[found.customer_id] = found
    # Every order counts, also one that closed no cart (it arrived before its cart did).
    last_ordered: dict[int, datetime] = dict(
        Order.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(at=Max("placed_at"))
        .values_list("customer_id", "at")
    )
    existing = {cart.pk for cart in active.values() if cart is not None}
    changed: dict[int, Cart] = {}  # id(cart) -> every cart this batch writes, in order met
    lines: dict[int, list[dict]] = {}  # id(cart) -> its new lines, when a snapshot set them
    orders: dict[str, Order] = {}
    for customer_id, event, item in shopping:
        at = event.occurred_at
        cart = active[customer_id]
        payload = item.payload
        ordered = last_ordered.get(customer_id)
        if item.type == "cart_updated":
            if ordered is not None and at < ordered:
                continue  # rule 1: a snapshot of a cart that an order has closed since
            if cart is not None and cart.snapshot_at is not None and cart.snapshot_at > at:
                continue  # rule 1: a newer snapshot is already there
            if cart is None:
                cart = active[customer_id] = Cart(customer_id=customer_id, created_at=at)
            cart.created_at = min(cart.created_at, at)
            cart.external_id = payload["cart_id"] or cart.external_id
            cart.currency = payload["currency"]
            cart.value = Decimal(payload["value"])
            cart.item_count = payload["item_count"]
            cart.snapshot_at = at
            cart.snapshot_event = event
            lines[id(cart)] = payload["items"]
        elif item.type == "checkout_started":
            if ordered is not None and at < ordered:
                continue  # rule 2: the checkout of a cart that an order has closed since
            if cart is None:
                cart = active[customer_id] = Cart(customer_id=customer_id, created_at=at)
            cart.status = Cart.Status.CHECKOUT
            cart.checkout_started_at = max(cart.checkout_started_at or at, at)
            cart.created_at = min(cart.created_at, at)
            cart.external_id = cart.external_id or payload["cart_id"]
        else:  # order_placed
            if cart is not None and _touched_at(cart) <= at:
                cart.status = Cart.Status.ORDERED
                cart.ordered_at = at
                active[customer_id] = None
            elif cart is not None:  # rule 3: the cart was touched after this order
                cart, successor = _cut(cart, at)
                active[customer_id] = successor
                if successor is not None:
                    successor.updated_at = now
                    changed[id(successor)] = successor
            last_ordered[customer_id] = max(at, ordered or at)
            # The shop's order id is unique: the same order under a new event_id is not a
            # new order (the first in the batch wins; one already stored wins over all).
            orders.setdefault(
                payload["order_id"],
                Order(
                    external_id=payload["order_id"],
                    customer_id=customer_id,
                    cart=cart,
                    currency=payload["currency"],
                    total=Decimal(payload["total"]),
                    items=payload["items"],
                    placed_at=at,
                    event=event,
                ),
            )
            if cart is None:
                continue
        cart.updated_at = now
        changed[id(cart)] = cart
    _write_carts(changed, existing, lines, product_ids)
    if orders:
        Order.objects.bulk_create(orders.values(), ignore_conflicts=True)


def _cut(cart: Cart, at: datetime) -> tuple[Cart | None, Cart | None]:
    """An order placed at `at` reaches an active cart touched after it: return (the cart
    the order closes, if any; the active cart after it, if any).

    What the cart holds from before the order goes with the order, what came after stays
    active, as if the order had arrived in time. (The cart keeps its latest checkout, so
    whether one came after the order is known without reading the journal.)
    """
    checkout = cart.checkout_started_at
    if checkout is not None and checkout <= at:
        checkout = None  # the checkout that led to this order
    if cart.snapshot_at is None or cart.snapshot_at > at:
        # its lines (if any) are from after the order: it stays active, without the
        # checkout of before the order
        cart.status = Cart.Status.CHECKOUT if checkout else Cart.Status.OPEN
        cart.checkout_started_at = checkout
        cart.created_at = max(cart.created_at, min(filter(None, [cart.snapshot_at, checkout])))
        return None, cart
    # its lines are from before the order: it closes; a checkout after the order started
    # the next cart, still empty
    cart.status, cart.ordered_at = Cart.Status.ORDERED, at
    if cart.checkout_started_at is not None and cart.checkout_started_at > at:
        cart.checkout_started_at = None  # that checkout was the next cart's
    if checkout is None:
        return cart, None
    return cart, Cart(
        customer_id=cart.customer_id,
        status=Cart.Status.CHECKOUT,
        checkout_started_at=checkout,
        created_at=checkout,
    )


def _touched_at(cart: Cart) -> datetime:
    """When the cart's state last changed by the shop's clock: its snapshot or checkout."""
    return max(filter(None, [cart.snapshot_at, cart.checkout_started_at]), default=cart.created_at)


def _write_carts(
    changed: dict[int, Cart], existing: set[int], lines: dict[int, list[dict]], product_ids
) -> None:
    # Close or refresh the stored carts before adding new ones: at most one is active.
    updated = [cart for cart in changed.values() if cart.pk in existing]
    if updated:
        with connection.cursor() as cursor:
            cursor.execute(
                _CARTS_SQL,
                {
                    "id": [cart.pk for cart in updated],
                    **{
                        column: [getattr(cart, column) for cart in updated]
                        for column in _CART_COLUMNS
                    },
                },
            )
    created = [cart for cart in changed.values() if cart.pk is None]
    if created:
        Cart.objects.bulk_create(created)
    refilled = [cart.pk for cart in updated if id(cart) in lines]
    if refilled:
        CartItem.objects.filter(cart_id__in=refilled).delete()
    items = [
        CartItem(
            cart=cart,
            product_id=product_ids[line["sku"]],
            position=n,
            sku=line["sku"],
            name=line["name"],
            quantity=line["quantity"],
            unit_price=Decimal(line["unit_price"]),
        )
        for cart in changed.values()
        for n, line in enumerate(lines.get(id(cart), ()))
    ]
    if items:
        CartItem.objects.bulk_create(items)


def _catalogue(applied: list[Applied], now: datetime) -> dict[str, int]:
    """Upsert every product the batch mentions, in one statement; return ids by sku.

    The viewed details fold in event order, as one upsert per event would leave them.
    """
    viewed: dict[str, dict] = {}
    named: dict[str, str] = {}  # sku -> name, for products only cart or order lines name
    for _, _, item in applied:
        p = item.payload
        if item.type == "product_viewed":
            before = viewed.get(p["sku"], {})
            viewed[p["sku"]] = {
                "name": p["name"],
                "price": p["price"] or before.get("price"),
                "currency": p["currency"] or before.get("currency", ""),
                "url": p["url"] or before.get("url", ""),
                "image": p["image"] or before.get("image", ""),
                "needs_assembly": p["needs_assembly"]
                if p["needs_assembly"] is not None
                else before.get("needs_assembly"),
            }
        elif item.type in ("cart_updated", "order_placed"):
            # the first event to name a sku catalogues it (with its last line's name)
            for sku, name in {line["sku"]: line["name"] for line in p["items"]}.items():
                named.setdefault(sku, name)
    rows = [(sku, {**details, "viewed": True}) for sku, details in viewed.items()] + [
        (sku, {"name": name, "viewed": False}) for sku, name in named.items() if sku not in viewed
    ]
    if not rows:
        return {}
    columns = ["name", "price", "currency", "url", "image", "needs_assembly", "viewed"]
    params = {column: [details.get(column) for _, details in rows] for column in columns}
    params["price"] = [Decimal(price) if price else None for price in params["price"]]
    params["sku"] = [sku for sku, _ in rows]
    params["now"] = now
    with connection.cursor() as cursor:
        cursor.execute(_PRODUCTS_SQL, params)
        return dict(cursor.fetchall())


def _count_interest(applied: list[Applied], product_ids: dict[str, int]) -> None:
    """Count each customer's product views, one row per customer and product, one statement."""
    interest: dict[tuple[int, int], list] = {}  # -> [views, first, last]
    for customer_id, event, item in applied:
        if item.type != "product_viewed":
            continue
        key = (customer_id, product_ids[item.payload["sku"]])
        at = event.occurred_at
        if key in interest:
            row = interest[key]
            row[0] += 1
            row[1], row[2] = min(row[1], at), max(row[2], at)
        else:
            interest[key] = [1, at, at]
    if not interest:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _INTEREST_SQL,
            {
                "customer": [customer for customer, _ in interest],
                "product": [product for _, product in interest],
                "views": [row[0] for row in interest.values()],
                "first": [row[1] for row in interest.values()],
                "last": [row[2] for row in interest.values()],
            },
        )
