"""What commerce adds to the customer context (THROUGHLINE_CONTEXT_PROVIDERS).

`provide(customer)` returns the keys the greeting, the agent panel and the nudges read:
`open_cart`, `cart_value`, `products_viewed`, `last_order` and `current_intent`. Values
are JSON-ready (decimal strings, ISO 8601 times), so callers can send them as they are.
It reads five small indexed queries at most, however long the history.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from conversations.models import Customer

from .models import Cart, Order, ProductInterest

PRODUCTS_VIEWED = 5


def provide(customer: Customer) -> dict:
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
    return {
        "open_cart": _cart(cart) if cart else None,
        "cart_value": str(cart.value) if cart else None,
        "products_viewed": [
            {
                "sku": i.product.sku,
                "name": i.product.name,
                "url": i.product.url,
                "views": i.views,
                "last_viewed_at": i.last_viewed_at.isoformat(),
            }
            for i in interests
        ],
        "last_order": _order(order) if order else None,
        "current_intent": _intent(customer, cart, interests),
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


def _intent(customer: Customer, cart: Cart | None, interests: list[ProductInterest]) -> dict | None:
    """What the customer is trying to do now: the most recent of these signals.

    - `checkout`: a cart in checkout with no order yet;
    - `cart`: an open cart with something in it;
    - `evaluating`: a product viewed within COMMERCE_EVALUATION_DAYS and not bought since.
    """
    window = timedelta(days=settings.COMMERCE_EVALUATION_DAYS)
    evaluating = None
    if interests and interests[0].last_viewed_at >= timezone.now() - window:
        latest = interests[0]
        bought = Order.objects.filter(
            customer=customer,
            placed_at__gte=latest.last_viewed_at,
            items__contains=[{"sku": latest.product.sku}],
        ).exists()
        if not bought:
            evaluating = latest
    if cart is not None and (
        evaluating is None or (cart.snapshot_at and cart.snapshot_at >= evaluating.last_viewed_at)
    ):
        kind = "checkout" if cart.status == Cart.Status.CHECKOUT else "cart"
        return {
            "kind": kind,
            "item_count": cart.item_count,
            "value": str(cart.value),
            "currency": cart.currency,
            "names": [item.name for item in cart.items.all()],
        }
    if evaluating is not None:
        return {
            "kind": "evaluating",
            "sku": evaluating.product.sku,
            "name": evaluating.product.name,
            "views": evaluating.views,
        }
    return None
