"""The shop's events in: validate them, append them to the journal, update carts and orders.

Verbs: `validate_event` (raw fields -> `CommerceEvent`, or `InvalidEvent` naming the
field), `ingest_event` (one event, for the widget's `Throughline.track`) and
`ingest_events` (a batch, for `POST /api/v1/events`). docs/api.md describes the payloads.

Idempotency: the event's `event_id` is the journal event's `source_id`, so the same id
again is accepted and ignored. Within a batch's transaction the ids are serialised with
advisory locks before anything is written, so two requests carrying the same id at once
cannot both update a cart: the second waits, then finds the first one's event.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from conversations import journal
from conversations.models import Customer, Event

from .models import Cart, CartItem, Order, Product

# type -> the journal event's kind
KINDS = {
    "page_viewed": "page_view",
    "product_viewed": "product_view",
    "cart_updated": "cart",
    "checkout_started": "checkout",
    "order_placed": "order",
}
MAX_EVENT_ID = 128  # the journal's source_id column
MAX_ITEMS = 200  # lines in one cart or order
MAX_TEXT = 300
MAX_URL = 2000
MAX_PRICE = Decimal("9999999999.99")  # MONEY: 12 digits, 2 decimals
# Clocks drift; an event stamped further ahead than this is a bug on the sender's side.
MAX_CLOCK_SKEW = timedelta(minutes=5)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# pg_advisory_xact_lock(int, int) key space of event ids ("evnt"), apart from the
# single-bigint merge lock of conversations/locks.py.
EVENT_ID_LOCK_SPACE = 0x65766E74


class InvalidEvent(ValueError):
    """A payload we cannot take: `field` says where (e.g. `payload.items[0].price`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CommerceEvent:
    """A validated event: `payload` is normalised (decimal strings, upper-case currency)."""

    event_id: str
    type: str
    payload: dict
    occurred_at: datetime | None = None

    @property
    def kind(self) -> str:
        return KINDS[self.type]


@dataclass(frozen=True)
class Outcome:
    event: Event
    duplicate: bool  # the event_id was seen before: nothing was written this time


# ---------------------------------------------------------------------------- validating


def validate_event(*, event_id, type, payload, occurred_at=None) -> CommerceEvent:
    """Check and normalise one event's fields; raise `InvalidEvent` on the first problem."""
    if not isinstance(event_id, str) or not event_id.strip():
        raise InvalidEvent("event_id", "is required: a non-empty string unique to this event.")
    event_id = event_id.strip()
    if len(event_id) > MAX_EVENT_ID:
        raise InvalidEvent("event_id", f"must be at most {MAX_EVENT_ID} characters.")
    if type not in KINDS:
        raise InvalidEvent("type", f"must be one of {', '.join(KINDS)}; got {type!r}.")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InvalidEvent("payload", "must be an object.")
    return CommerceEvent(
        event_id=event_id,
        type=type,
        payload=_PAYLOADS[type](payload),
        occurred_at=_occurred_at(occurred_at),
    )


def _occurred_at(value) -> datetime | None:
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise InvalidEvent("occurred_at", "must be an ISO 8601 date-time, e.g. 2025-05-01T12:00Z.")
    if timezone.is_naive(parsed):
        raise InvalidEvent("occurred_at", "must include a time zone (Z or +hh:mm).")
    if parsed > timezone.now() + MAX_CLOCK_SKEW:
        raise InvalidEvent("occurred_at", "is in the future.")
    return parsed


def _text(data: dict, key: str, where: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InvalidEvent(f"{where}{key}", "is required.")
        return ""
    if not isinstance(value, str):
        raise InvalidEvent(f"{where}{key}", "must be a string.")
    value = value.strip()
    if required and not value:
        raise InvalidEvent(f"{where}{key}", "is required.")
    if len(value) > limit:
        raise InvalidEvent(f"{where}{key}", f"must be at most {limit} characters.")
    return value


def _url(data: dict, key: str, where: str, *, required: bool = False) -> str:
    value = _text(data, key, where, required=required, limit=MAX_URL)
    if value and not value.startswith(("https://", "http://", "/")):
        raise InvalidEvent(f"{where}{key}", "must be an http(s) URL or a path starting with /.")
    return value


def _price(data: dict, key: str, where: str, *, required: bool) -> str | None:
    """A money amount as a decimal string with at most 2 decimals ("1299.00")."""
    value = data.get(key)
    if value is None:
        if required:
            raise InvalidEvent(f"{where}{key}", "is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidEvent(f"{where}{key}", 'must be a number or a decimal string ("19.99").')
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidEvent(f"{where}{key}", "must be a finite number.")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidEvent(
            f"{where}{key}", 'must be a number or a decimal string ("19.99").'
        ) from None
    if not amount.is_finite():
        raise InvalidEvent(f"{where}{key}", "must be a finite number.")
    if amount < 0:
        raise InvalidEvent(f"{where}{key}", "must not be negative.")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidEvent(f"{where}{key}", "must have at most 2 decimal places.")
    if amount > MAX_PRICE:
        raise InvalidEvent(f"{where}{key}", f"must be at most {MAX_PRICE}.")
    return str(amount.quantize(Decimal("0.01")))


def _currency(data: dict, where: str, *, required: bool) -> str:
    value = data.get("currency")
    if value is None or value == "":
        if required:
            raise InvalidEvent(f"{where}currency", "is required: an ISO 4217 code such as USD.")
        return ""
    if not isinstance(value, str) or not _CURRENCY.match(value.strip().upper()):
        raise InvalidEvent(f"{where}currency", "must be an ISO 4217 code such as USD.")
    return value.strip().upper()


def _quantity(data: dict, where: str) -> int:
    value = data.get("quantity", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise InvalidEvent(f"{where}quantity", "must be a whole number from 1 to 10000.")
    return value


def _items(payload: dict, *, required: bool) -> list[dict]:
    items = payload.get("items")
    if items is None:
        if required:
            raise InvalidEvent("payload.items", "is required: a list of lines.")
        return []
    if not isinstance(items, list):
        raise InvalidEvent("payload.items", "must be a list.")
    if len(items) > MAX_ITEMS:
        raise InvalidEvent("payload.items", f"must have at most {MAX_ITEMS} lines.")
    lines = []
    for n, item in enumerate(items):
        where = f"payload.items[{n}]."
        if not isinstance(item, dict):
            raise InvalidEvent(f"payload.items[{n}]", "must be an object.")
        lines.append(
            {
                "sku": _text(item, "sku", where, required=True, limit=128),
                "name": _text(item, "name", where, required=True),
                "quantity": _quantity(item, where),
                "unit_price": _price(item, "price", where, required=True),
            }
        )
    return lines


def _total(lines: list[dict]) -> str:
    return str(sum((Decimal(li["unit_price"]) * li["quantity"] for li in lines), Decimal("0.00")))


def _page_viewed(payload: dict) -> dict:
    return {
        "url": _url(payload, "url", "payload.", required=True),
        "title": _text(payload, "title", "payload.", required=False),
        "referrer": _url(payload, "referrer", "payload."),
    }


def _product_viewed(payload: dict) -> dict:
    needs_assembly = payload.get("needs_assembly")  # None: not said, so not changed
    if needs_assembly is not None and not isinstance(needs_assembly, bool):
        raise InvalidEvent("payload.needs_assembly", "must be true or false.")
    return {
        "sku": _text(payload, "sku", "payload.", required=True, limit=128),
        "name": _text(payload, "name", "payload.", required=True),
        "price": _price(payload, "price", "payload.", required=False),
        "currency": _currency(payload, "payload.", required=payload.get("price") is not None),
        "url": _url(payload, "url", "payload."),
        "image": _url(payload, "image", "payload."),
        "needs_assembly": needs_assembly,
    }


def _cart_updated(payload: dict) -> dict:
    lines = _items(payload, required=True)
    value = _price(payload, "value", "payload.", required=False)  # after the shop's discounts
    return {
        "cart_id": _text(payload, "cart_id", "payload.", required=False, limit=128),
        "currency": _currency(payload, "payload.", required=True),
        "items": lines,
        "item_count": sum(li["quantity"] for li in lines),
        "value": value if value is not None else _total(lines),
    }


def _checkout_started(payload: dict) -> dict:
    return {"cart_id": _text(payload, "cart_id", "payload.", required=False, limit=128)}


def _order_placed(payload: dict) -> dict:
    lines = _items(payload, required=True)
    if not lines:
        raise InvalidEvent("payload.items", "must list at least one line.")
    total = _price(payload, "total", "payload.", required=False)
    return {
        "order_id": _text(payload, "order_id", "payload.", required=True, limit=128),
        "currency": _currency(payload, "payload.", required=True),
        "items": lines,
        "total": total if total is not None else _total(lines),
    }


_PAYLOADS = {
    "page_viewed": _page_viewed,
    "product_viewed": _product_viewed,
    "cart_updated": _cart_updated,
    "checkout_started": _checkout_started,
    "order_placed": _order_placed,
}


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
    2. Visit the rest customer by customer (in pk order, so concurrent batches take the
       conversation locks in one order and cannot deadlock), each customer's events in
       the order sent: append each to the journal, then update the commerce tables.
    """
    event_ids = sorted({item.event_id for _, item in batch})
    outcomes: list[Outcome | None] = [None] * len(batch)
    with transaction.atomic(durable=True):
        _lock_event_ids(channel, event_ids)
        seen = {
            event.source_id: event
            for event in Event.objects.filter(channel=channel, source_id__in=event_ids)
        }
        # A repeat inside the batch finds its first appearance in `seen`.
        for index in sorted(range(len(batch)), key=lambda i: (batch[i][0].pk, i)):
            customer, item = batch[index]
            if item.event_id in seen:
                outcomes[index] = Outcome(seen[item.event_id], duplicate=True)
                continue
            event = journal.record(
                customer=customer,
                channel=channel,
                kind=item.kind,
                # Shop activity is not the customer talking to us: it must not move the
                # inbox's "last inbound" nor become the channel to answer on.
                direction=Event.Direction.INTERNAL,
                body=_summary(item),
                data={"type": item.type, **item.payload},
                source_id=item.event_id,
                occurred_at=item.occurred_at,
            )
            seen[item.event_id] = event
            _APPLY[item.type](event.conversation.customer_id, event, item.payload)
            outcomes[index] = Outcome(event, duplicate=False)
    return outcomes  # type: ignore[return-value]  # every index was filled above


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


def _apply_page_viewed(customer_id: int, event: Event, payload: dict) -> None:
    pass  # the journal event is the whole record


# The catalogue row and the customer's interest in it, in one statement and no savepoint:
# a detail the event leaves out (NULL or "") never erases what the catalogue has.
_PRODUCT_VIEWED_SQL = """
WITH product AS (
    INSERT INTO commerce_product AS p (sku, name, price, currency, url, image,
        needs_assembly, created_at, updated_at)
    VALUES (%(sku)s, %(name)s, %(price)s, %(currency)s, %(url)s, %(image)s,
        COALESCE(%(needs_assembly)s, false), %(now)s, %(now)s)
    ON CONFLICT (sku) DO UPDATE SET
        name = EXCLUDED.name,
        price = COALESCE(EXCLUDED.price, p.price),
        currency = COALESCE(NULLIF(EXCLUDED.currency, ''), p.currency),
        url = COALESCE(NULLIF(EXCLUDED.url, ''), p.url),
        image = COALESCE(NULLIF(EXCLUDED.image, ''), p.image),
        needs_assembly = COALESCE(%(needs_assembly)s, p.needs_assembly),
        updated_at = EXCLUDED.updated_at
    RETURNING id
)
INSERT INTO commerce_productinterest AS i
    (customer_id, product_id, views, first_viewed_at, last_viewed_at)
SELECT %(customer)s, id, 1, %(at)s, %(at)s FROM product
ON CONFLICT (customer_id, product_id) DO UPDATE SET
    views = i.views + 1,
    first_viewed_at = LEAST(i.first_viewed_at, EXCLUDED.first_viewed_at),
    last_viewed_at = GREATEST(i.last_viewed_at, EXCLUDED.last_viewed_at)
"""


def _apply_product_viewed(customer_id: int, event: Event, payload: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _PRODUCT_VIEWED_SQL,
            {
                **payload,
                "price": Decimal(payload["price"]) if payload["price"] else None,
                "customer": customer_id,
                "at": event.occurred_at,
                "now": timezone.now(),
            },
        )


def _products(lines: list[dict]) -> dict[str, int]:
    """The products of these lines by sku (catalogued on first sight); one query."""
    now = timezone.now()
    rows = {li["sku"]: Product(sku=li["sku"], name=li["name"], updated_at=now) for li in lines}
    if not rows:
        return {}
    # Nothing is overwritten: the name update is a no-op that lets RETURNING give every id.
    created = Product.objects.bulk_create(
        list(rows.values()), update_conflicts=True, unique_fields=["sku"], update_fields=["sku"]
    )
    return {product.sku: product.pk for product in created}


def _active_cart(customer_id: int) -> Cart | None:
    return (
        Cart.objects.select_for_update(no_key=True)
        .filter(customer_id=customer_id, status__in=Cart.ACTIVE)
        .first()
    )


def _apply_cart_updated(customer_id: int, event: Event, payload: dict) -> None:
    at = event.occurred_at
    cart = _active_cart(customer_id)
    if cart is not None and cart.snapshot_at is not None and cart.snapshot_at > at:
        return  # a newer snapshot is already there: this one arrived late
    if cart is None:
        if Cart.objects.filter(
            customer_id=customer_id, status=Cart.Status.ORDERED, ordered_at__gt=at
        ).exists():
            return  # a snapshot from before the order that closed the cart
        # The conversation row lock (taken by record) serialises this customer's writers,
        # so no other transaction can create an active cart between the read and this.
        cart = Cart(customer_id=customer_id, created_at=at)
    cart.external_id = payload["cart_id"] or cart.external_id
    cart.currency = payload["currency"]
    cart.value = Decimal(payload["value"])
    cart.item_count = payload["item_count"]
    cart.snapshot_at = at
    cart.snapshot_event = event
    cart.updated_at = timezone.now()
    cart.save()
    products = _products(payload["items"])
    CartItem.objects.filter(cart=cart).delete()
    CartItem.objects.bulk_create(
        CartItem(
            cart=cart,
            product_id=products[line["sku"]],
            position=n,
            sku=line["sku"],
            name=line["name"],
            quantity=line["quantity"],
            unit_price=Decimal(line["unit_price"]),
        )
        for n, line in enumerate(payload["items"])
    )


def _apply_checkout_started(customer_id: int, event: Event, payload: dict) -> None:
    Cart.objects.filter(customer_id=customer_id, status=Cart.Status.OPEN).update(
        status=Cart.Status.CHECKOUT, checkout_started_at=event.occurred_at
    )


def _apply_order_placed(customer_id: int, event: Event, payload: dict) -> None:
    cart = _active_cart(customer_id)
    if cart is not None and (cart.snapshot_at is None or cart.snapshot_at <= event.occurred_at):
        Cart.objects.filter(pk=cart.pk).update(
            status=Cart.Status.ORDERED, ordered_at=event.occurred_at, updated_at=timezone.now()
        )
    else:
        cart = None  # the active cart was filled after this order: it stays open
    _products(payload["items"])
    # The shop's order id is unique: the same order under a new event_id is not a new order.
    Order.objects.get_or_create(
        external_id=payload["order_id"],
        defaults={
            "customer_id": customer_id,
            "cart": cart,
            "currency": payload["currency"],
            "total": Decimal(payload["total"]),
            "items": payload["items"],
            "placed_at": event.occurred_at,
            "event": event,
        },
    )


_APPLY = {
    "page_viewed": _apply_page_viewed,
    "product_viewed": _apply_product_viewed,
    "cart_updated": _apply_cart_updated,
    "checkout_started": _apply_checkout_started,
    "order_placed": _apply_order_placed,
}
