"""Products, carts and orders: what the shop's events say a customer looks at and buys.

Rows are written only through the verbs in ingest.py (and merges.py when customers
merge); each commerce event also lands in the journal, which stays the history. These
tables hold the current state that the customer context, the agent panel and the nudge
sweeps read without replaying the journal.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from conversations.models import Customer, Event

MONEY = {"max_digits": 12, "decimal_places": 2}


class Product(models.Model):
    """The catalogue as the shop's events describe it: each event may refresh it."""

    sku = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=300)
    price = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)  # ISO 4217
    url = models.URLField(max_length=2000, blank=True)
    image = models.URLField(max_length=2000, blank=True)
    # Shown to agents and used by rules that offer help with delivery and assembly.
    needs_assembly = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class ProductInterest(models.Model):
    """One row per customer and product they looked at: how often and when.

    The context reads "what is this customer evaluating" from here in one indexed query,
    however long the journal grows.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="product_interests"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="interests")
    views = models.PositiveIntegerField(default=0)
    first_viewed_at = models.DateTimeField()
    last_viewed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product"], name="product_interest_customer_product_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["customer", "-last_viewed_at"], name="product_interest_recent_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} viewed {self.product} x{self.views}"


class Cart(models.Model):
    """A customer's cart as the latest `cart_updated` snapshot left it.

    A customer has at most one active cart (open or in checkout); an order closes it and
    the next snapshot opens a new one, so past carts remain for the history.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        CHECKOUT = "checkout"  # checkout_started, no order yet
        ORDERED = "ordered"  # an order_placed closed it
        MERGED = "merged"  # its customer merged into one whose cart was newer

    ACTIVE = (Status.OPEN, Status.CHECKOUT)

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="carts")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    external_id = models.CharField(max_length=128, blank=True)  # the shop's cart id, if sent
    currency = models.CharField(max_length=3, blank=True)
    value = models.DecimalField(**MONEY, default=0)
    item_count = models.PositiveIntegerField(default=0)  # total quantity
    # The snapshot this cart holds: an older snapshot arriving late never overwrites it.
    snapshot_at = models.DateTimeField(null=True, blank=True)
    snapshot_event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checkout_started_at = models.DateTimeField(null=True, blank=True)  # the latest checkout
    ordered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=["open", "checkout"]),
                name="one_active_cart_per_customer",
            ),
        ]
        indexes = [
            # Abandoned-cart sweeps: active carts with something in them, oldest first.
            models.Index(
                fields=["snapshot_at"],
                condition=Q(status__in=["open", "checkout"], item_count__gt=0),
                name="cart_active_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Cart #{self.pk} ({self.status}, {self.currency} {self.value})"


class CartItem(models.Model):
    """One line of a cart snapshot, with the price the shop showed at that moment."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()  # the order the shop listed them in
    sku = models.CharField(max_length=128)  # as the snapshot said, beside the catalogue link
    name = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


class Order(models.Model):
    external_id = models.CharField(max_length=128, unique=True)  # the shop's order id
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    cart = models.ForeignKey(
        Cart, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    currency = models.CharField(max_length=3)
    total = models.DecimalField(**MONEY)
    # [{"sku", "name", "quantity", "unit_price"}], prices as decimal strings, as placed.
    items = models.JSONField(default=list)
    placed_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-placed_at"], name="order_customer_recent_idx")
        ]

    def __str__(self) -> str:
        return f"Order {self.external_id}"
