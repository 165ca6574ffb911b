"""What commerce adds to the customer context (a `context_providers` plug).

`provide(customer)` returns three parts: `CommerceContext` (the open cart, its value, the
products viewed, the last order: what the agent panel and the nudges read), the core's
`CurrentIntent` (what the greeting reads) and the core's `Purchases` (the last order and
the cart's value again: what routing's rules read, through the core). Their JSON view in
`context.extra` is `open_cart`, `cart_value`, `products_viewed`, `last_order` and
`current_intent`; values are JSON-ready (decimal strings, ISO 8601 times), so callers can
send them as they are. It reads five small indexed queries at most, however long the
history.

`HEADLINE` (a `headline_parts` plug) gives the two core parts in the headline's one
query, through the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from conversations.context import ContextPart, CurrentIntent, Intent, Purchases
from conversations.models import Customer

from .models import Cart, Order, ProductInterest

PRODUCTS_VIEWED = 5


@dataclass(frozen=True)
class CommerceContext(ContextPart):
    """The shop's side of the customer: JSON objects as the API shows them."""

    open_cart: dict[str, Any] | None  # id, status, currency, value, item_count, items...
    cart_value: str | None  # a decimal string
    products_viewed: list[dict[str, Any]]  # most recent first: sku, name, url, views...
    last_order: dict[str, Any] | None  # order_id, currency, total, placed_at, delivered_at

    def as_extra(self) -> dict[str, Any]:
        # `cart_value` and `last_order` are the core's Purchases part's keys (same values)
        return {"open_cart": self.open_cart, "products_viewed": self.products_viewed}


def provide(customer: Customer) -> list[ContextPart]:
    cart = (
        Cart.objects.filter(customer=customer, status__in=Cart.ACTIVE, item_count__gt=0)
        .prefetch_related("items")
        .first()
    )
    interests = list(
        ProductInterest.objects.filter(customer=customer)
        .select_related("product")
        .order_by("-last_viewed_at")[:PRODUCTS_VIEWED]
    )
    order = Order.objects.filter(customer=customer).order_by("-placed_at").first()
    last_order = _order(order) if order else None
    cart_value = str(cart.value) if cart else None
    return [
        CommerceContext(
            open_cart=_cart(cart) if cart else None,
            cart_value=cart_value,
            products_viewed=[
                {
                    "sku": i.product.sku,
                    "name": i.product.name,
                    "url": i.product.url,
                    "views": i.views,
                    "last_viewed_at": i.last_viewed_at.isoformat(),
                }
                for i in interests
            ],
            last_order=last_order,
        ),
        Purchases(last_order=last_order, cart_value=cart_value),
        CurrentIntent(
            _intent(
                _cart_facts(cart) if cart else None,
                _latest_facts(customer, interests[0]) if interests else None,
            )
        ),
    ]


def _cart_facts(cart: Cart) -> dict:
    return {
        "status": cart.status,
        "item_count": cart.item_count,
        "value": str(cart.value),
        "currency": cart.currency,
        "snapshot_at": cart.snapshot_at,
        "names": [item.name for item in cart.items.all()],
    }


def _latest_facts(customer: Customer, interest: ProductInterest) -> dict:
    sku = interest.product.sku
    return {
        "sku": sku,
        "name": interest.product.name,
        "views": interest.views,
        "last_viewed_at": interest.last_viewed_at,
        "bought": lambda: Order.objects.filter(
            customer=customer,
            placed_at__gte=interest.last_viewed_at,
            items__contains=[{"sku": sku}],
        ).exists(),
    }


def _cart(cart: Cart) -> dict:
    return {
        "id": cart.pk,
        "status": cart.status,
        "currency": cart.currency,
        "value": str(cart.value),
        "item_count": cart.item_count,
        "items": [
            {
                "sku": item.sku,
                "name": item.name,
                "quantity": item.quantity,
                "unit_price": str(item.unit_price),
            }
            for item in cart.items.all()
        ],
        "updated_at": cart.snapshot_at.isoformat() if cart.snapshot_at else None,
    }


def _order(order: Order) -> dict:
    return {
        "order_id": order.external_id,
        "currency": order.currency,
        "total": str(order.total),
        "placed_at": order.placed_at.isoformat(),
        "delivered_at": order.delivered_at.isoformat() if order.delivered_at else None,
    }


def _intent(cart: dict | None, latest: dict | None) -> Intent | None:
    """What the customer is trying to do now: the most recent of these signals.

    - `checkout`: a cart in checkout with no order yet;
    - `cart`: an open cart with something in it;
    - `evaluating`: a product viewed within COMMERCE_EVALUATION_DAYS and not bought since.

    `cart` holds status, item_count, value, currency, snapshot_at and names; `latest` the
    most recently viewed product's sku, name, views, last_viewed_at and `bought` (ordered
    since), a callable so that it is asked only when the view is recent enough.
    """
    window = timedelta(days=settings.COMMERCE_EVALUATION_DAYS)
    evaluating = None
    if latest and latest["last_viewed_at"] >= timezone.now() - window and not latest["bought"]():
        evaluating = latest
    if cart is not None and (
        evaluating is None
        or (cart["snapshot_at"] and cart["snapshot_at"] >= evaluating["last_viewed_at"])
    ):
        return Intent(
            kind="checkout" if cart["status"] == Cart.Status.CHECKOUT else "cart",
            item_count=cart["item_count"],
            value=cart["value"],
            currency=cart["currency"],
            names=tuple(cart["names"]),
        )
    if evaluating is not None:
        return Intent(
            kind="evaluating",
            sku=evaluating["sku"],
            name=evaluating["name"],
            views=evaluating["views"],
        )
    return None


class CommerceHeadline:
    """`CurrentIntent` and `Purchases` for the headline (a `headline_parts` plug): the
    open cart, the latest viewed product and the last order as JSON from one scalar
    subquery over customer `c`, through the same rules and JSON as `provide`."""

    sql = """
    SELECT json_build_object(
        'cart', (
            SELECT json_build_object(
                'status', ca.status, 'item_count', ca.item_count, 'value', ca.value::text,
                'currency', ca.currency, 'snapshot_at', ca.snapshot_at,
                'names', (SELECT coalesce(json_agg(it.name ORDER BY it.position), '[]')
                          FROM commerce_cartitem it WHERE it.cart_id = ca.id))
            FROM commerce_cart ca
            WHERE ca.customer_id = c.id AND ca.status IN ('open', 'checkout')
              AND ca.item_count > 0),  -- one active cart per customer (a constraint)
        'latest', (
            SELECT json_build_object(
                'sku', p.sku, 'name', p.name, 'views', pi.views,
                'last_viewed_at', pi.last_viewed_at,
                'bought', EXISTS (
                    SELECT 1 FROM commerce_order o
                    WHERE o.customer_id = c.id AND o.placed_at >= pi.last_viewed_at
                      AND o.items @> jsonb_build_array(jsonb_build_object('sku', p.sku))))
            FROM commerce_productinterest pi
            JOIN commerce_product p ON p.id = pi.product_id
            WHERE pi.customer_id = c.id
            ORDER BY pi.last_viewed_at DESC
            LIMIT 1),
        'order', (
            SELECT json_build_object(
                'order_id', o.external_id, 'currency', o.currency, 'total', o.total::text,
                'placed_at', o.placed_at, 'delivered_at', o.delivered_at)
            FROM commerce_order o
            WHERE o.customer_id = c.id
            ORDER BY o.placed_at DESC
            LIMIT 1))
    """

    def params(self) -> dict:
        return {}

    def parse(self, value: dict) -> list[ContextPart]:
        cart, latest, order = value["cart"], value["latest"], value["order"]
        if cart is not None:
            cart["snapshot_at"] = _when(cart["snapshot_at"])
        if latest is not None:
            latest["last_viewed_at"] = _when(latest["last_viewed_at"])
            latest["bought"] = (lambda bought: lambda: bought)(latest["bought"])
        if order is not None:  # times written as Python writes them, as `_order` does
            for key in ("placed_at", "delivered_at"):
                when = _when(order[key])
                order[key] = when.isoformat() if when else None
        return [
            Purchases(last_order=order, cart_value=cart["value"] if cart else None),
            CurrentIntent(_intent(cart, latest)),
        ]


HEADLINE = CommerceHeadline()


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
