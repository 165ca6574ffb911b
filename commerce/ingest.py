"""The shop's events in: append them to the journal, update carts and orders.

Verbs: `ingest_event` (one event, for the widget's `Throughline.track`) and
`ingest_events` (a batch of events checked by `validation.validate_event`, for
`POST /api/v1/events`). docs/api.md describes the payloads.

Idempotency: the event's `event_id` is the journal event's `source_id`, so the same id
again is accepted and ignored. Within a batch's transaction the ids are serialised with
advisory locks before anything is written, so two requests carrying the same id at once
cannot both update a cart: the second waits, then finds the first one's event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from conversations.batch import record_many
from conversations.identities import normalize_identity, resolve_customer
from conversations.models import Customer, Event, Identity

from .models import Cart, CartItem, Order
from .validation import CommerceEvent, validate_event

# pg_advisory_xact_lock(int, int) key space of event ids ("evnt"), apart from the
# single-bigint merge lock of conversations/locks.py.
EVENT_ID_LOCK_SPACE = 0x65766E74


@dataclass(frozen=True)
class Outcome:
    event: Event
    duplicate: bool  # the event_id was seen before: nothing was written this time


# ---------------------------------------------------------------------------- ingesting


def ingest_event(
    *,
    customer: Customer,
    event_id: str,
    type: str,  # the event's type, as the API and Throughline.track name it
    payload: dict,
    occurred_at: datetime | str | None = None,
    channel: str = Event.Channel.API,
) -> Event:
    """Validate and ingest one event; return its journal event (the original on a repeat).

    `channel` is "api" for the shop's servers and "web" for the widget. Raises
    `InvalidEvent` before writing anything.
    """
    item = validate_event(event_id=event_id, type=type, payload=payload, occurred_at=occurred_at)
    (outcome,) = ingest_events([(customer, item)], channel=channel)
    return outcome.event


def ingest_events(
    batch: Sequence[tuple[Customer, CommerceEvent]], *, channel: str = Event.Channel.API
) -> list[Outcome]:
    """Ingest validated events in one transaction; return one `Outcome` per item, in order.

    1. Lock the batch's event ids (advisory, sorted, before any row lock), then read which
       of them the journal already has: those are duplicates and write nothing.
    2. Append the rest to the journal at once (`batch.record_many`, which locks the
       conversations in customer order, so concurrent batches cannot deadlock), each
       customer's events in the order sent.
    3. Update the commerce tables for the whole batch in a few bulk statements
       (`_apply_all`), replaying each customer's events in that same order in memory.
    """
    event_ids = sorted({item.event_id for _, item in batch})
    outcomes: list[Outcome | None] = [None] * len(batch)
    with transaction.atomic(durable=True):
        _lock_event_ids(channel, event_ids)
        seen = {
            event.source_id: event
            for event in Event.objects.filter(channel=channel, source_id__in=event_ids)
        }
        new: list[int] = []  # indexes to append, customer by customer (pk order)
        firsts: set[str] = set()
        for index in sorted(range(len(batch)), key=lambda i: (batch[i][0].pk, i)):
            item = batch[index][1]
            if item.event_id in seen:
                outcomes[index] = Outcome(seen[item.event_id], duplicate=True)
            elif item.event_id not in firsts:
                firsts.add(item.event_id)
                new.append(index)
            # else a repeat inside the batch: answered below with its first appearance
        events = record_many(
            [
                {
                    "customer": batch[index][0],
                    "channel": channel,
                    "kind": batch[index][1].kind,
                    # Shop activity is not the customer talking to us: it must not move the
                    # inbox's "last inbound" nor become the channel to answer on.
                    "direction": Event.Direction.INTERNAL,
                    "body": _summary(batch[index][1]),
                    "data": {"type": batch[index][1].type, **batch[index][1].payload},
                    "source_id": batch[index][1].event_id,
                    "occurred_at": batch[index][1].occurred_at,
                }
                for index in new
            ]
        )
        for index, event in zip(new, events, strict=True):
            seen[batch[index][1].event_id] = event
            outcomes[index] = Outcome(event, duplicate=False)
        for index, outcome in enumerate(outcomes):
            if outcome is None:
                outcomes[index] = Outcome(seen[batch[index][1].event_id], duplicate=True)
        _apply_all(
            [
                (event.conversation.customer_id, event, batch[index][1])
                for index, event in zip(new, events, strict=True)
            ]
        )
    return outcomes  # type: ignore[return-value]  # every index was filled above


def resolve_customers(
    references: Iterable[tuple[str, str, str]],
) -> dict[tuple[str, str], Customer]:
    """The customers named by (kind, value, display name) references, by (kind, value).

    What `identities.resolve_customer` gives for each, in one query for the known ones:
    only new identities (created by `resolve_customer`, race-free) and merged customers
    (followed to their survivor) cost more. Keys are the normalised (kind, value).
    """
    names: dict[tuple[str, str], str] = {}
    for kind, value, display_name in references:
        names.setdefault(normalize_identity(kind, value), display_name)
    if not names:
        return {}
    by_kind: dict[str, list[str]] = {}
    for kind, value in names:
        by_kind.setdefault(kind, []).append(value)
    query = Q()
    for kind, values in by_kind.items():
        query |= Q(kind=kind, value__in=values)
    found = {
        (identity.kind, identity.value): identity.customer
        for identity in Identity.objects.filter(query).select_related("customer")
    }
    customers = {}
    for key, display_name in names.items():
        customer = found.get(key)
        if customer is None or customer.merged_into_id is not None:
            customer = resolve_customer(*key, display_name=display_name)
        customers[key] = customer
    return customers


def _lock_event_ids(channel: str, event_ids: list[str]) -> None:
    """Hold each event id's advisory lock until commit, taken in one sorted order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, key)) FROM ("
            "  SELECT DISTINCT hashtext(%s || id) AS key FROM unnest(%s::text[]) AS id"
            "  ORDER BY key) AS keys",
            [EVENT_ID_LOCK_SPACE, f"{channel}:", event_ids],
        )


def _summary(item: CommerceEvent) -> str:
    """The timeline's one line for the event (agents read it)."""
    p = item.payload
    if item.type == "page_viewed":
        return f"Viewed {p['title'] or p['url']}"
    if item.type == "product_viewed":
        return f"Viewed {p['name']}"
    if item.type == "cart_updated":
        if not p["items"]:
            return "Emptied the cart"
        return f"Cart: {_count(p['item_count'], 'item')}, {p['currency']} {p['value']}"
    if item.type == "checkout_started":
        return "Started checkout"
    return f"Placed order {p['order_id']}: {p['currency']} {p['total']}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------------------- applying


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
    updated_at = v.updated_at
FROM unnest(%(id)s::bigint[], %(status)s::text[], %(external_id)s::text[],
    %(currency)s::text[], %(value)s::numeric[], %(item_count)s::int[],
    %(snapshot_at)s::timestamptz[], %(snapshot_event_id)s::bigint[],
    %(checkout_started_at)s::timestamptz[], %(ordered_at)s::timestamptz[],
    %(updated_at)s::timestamptz[])
    AS v(id, status, external_id, currency, value, item_count, snapshot_at,
        snapshot_event_id, checkout_started_at, ordered_at, updated_at)
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
    "updated_at",
]


def _apply_all(applied: list[tuple[int, Event, CommerceEvent]]) -> None:
    """Update products, interest, carts and orders for a batch's new events.

    `applied` holds (customer id, journal event, item) in the order the journal took them
    (each customer's events in the order sent). Each customer's carts are replayed in
    memory with the rules of one event at a time, then written with bulk statements: the
    conversation row locks record_many holds serialise each customer's writers, so no
    other transaction changes these carts meanwhile.
    """
    if not applied:
        return
    now = timezone.now()
    product_ids = _catalogue(applied, now)
    _count_interest(applied, product_ids)
    shopping = [entry for entry in applied if entry[2].type in _CART_TYPES]
    if not shopping:
        return
    customer_ids = {customer_id for customer_id, _, _ in shopping}
    active: dict[int, Cart | None] = dict.fromkeys(customer_ids)
    for found in Cart.objects.select_for_update(no_key=True).filter(
        customer_id__in=customer_ids, status__in=Cart.ACTIVE
    ):
        active[found.customer_id] = found
    last_ordered: dict[int, datetime] = dict(
        Cart.objects.filter(
            customer_id__in={c for c, _, item in shopping if item.type == "cart_updated"},
            status=Cart.Status.ORDERED,
            ordered_at__isnull=False,
        )
        .values("customer_id")
        .annotate(at=Max("ordered_at"))
        .values_list("customer_id", "at")
    )
    existing = {cart.pk: cart for cart in active.values() if cart is not None}
    changed: dict[int, Cart] = {}  # id(cart) -> every cart this batch writes, in order met
    lines: dict[int, list[dict]] = {}  # id(cart) -> its new lines, when a snapshot set them
    orders: dict[str, Order] = {}
    for customer_id, event, item in shopping:
        at = event.occurred_at
        cart = active[customer_id]
        payload = item.payload
        if item.type == "cart_updated":
            if cart is not None and cart.snapshot_at is not None and cart.snapshot_at > at:
                continue  # a newer snapshot is already there: this one arrived late
            if cart is None:
                if customer_id in last_ordered and last_ordered[customer_id] > at:
                    continue  # a snapshot from before the order that closed the cart
                cart = active[customer_id] = Cart(customer_id=customer_id, created_at=at)
            cart.external_id = payload["cart_id"] or cart.external_id
            cart.currency = payload["currency"]
            cart.value = Decimal(payload["value"])
            cart.item_count = payload["item_count"]
            cart.snapshot_at = at
            cart.snapshot_event = event
            cart.updated_at = now
            lines[id(cart)] = payload["items"]
            changed[id(cart)] = cart
        elif item.type == "checkout_started":
            if cart is not None and cart.status == Cart.Status.OPEN:
                cart.status = Cart.Status.CHECKOUT
                cart.checkout_started_at = at
                changed[id(cart)] = cart
        else:  # order_placed
            if cart is not None and (cart.snapshot_at is None or cart.snapshot_at <= at):
                cart.status = Cart.Status.ORDERED
                cart.ordered_at = at
                cart.updated_at = now
                changed[id(cart)] = cart
                active[customer_id] = None
                last_ordered[customer_id] = max(at, last_ordered.get(customer_id, at))
            else:
                cart = None  # the active cart was filled after this order: it stays open
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
    if orders:
        Order.objects.bulk_create(orders.values(), ignore_conflicts=True)


_CART_TYPES = frozenset({"cart_updated", "checkout_started", "order_placed"})


def _catalogue(applied: list[tuple[int, Event, CommerceEvent]], now: datetime) -> dict[str, int]:
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


def _count_interest(
    applied: list[tuple[int, Event, CommerceEvent]], product_ids: dict[str, int]
) -> None:
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
