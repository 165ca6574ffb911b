"""What commerce holds about a person, for privacy's export (docs/privacy.md).

Declared on commerce's AppConfig as an `export_hooks` plug. Commerce declares no erasure
hook on purpose: carts and orders stay after an erasure (the customer row becomes
anonymous) so that every figure in insights is unchanged, and they hold products, prices
and times, nothing that names the person.
"""

from __future__ import annotations

from conversations.models import Customer

from .models import Cart, CartItem, Order, ProductInterest


def export(customer: Customer) -> dict[str, list]:
    return {
        "carts": [
            {
                **cart,
                "items": list(
                    CartItem.objects.filter(cart_id=cart["id"]).values(
                        "sku", "name", "quantity", "unit_price"
                    )
                ),
            }
            for cart in Cart.objects.filter(customer=customer)
            .order_by("created_at")
            .values("id", "status", "currency", "value", "item_count", "created_at", "ordered_at")
        ],
        "orders": list(
            Order.objects.filter(customer=customer)
            .order_by("placed_at")
            .values("external_id", "currency", "total", "items", "placed_at", "delivered_at")
        ),
        "products_viewed": list(
            ProductInterest.objects.filter(customer=customer).values(
                "product__sku", "product__name", "views", "first_viewed_at", "last_viewed_at"
            )
        ),
    }
