"""Stores, placements and the products they show."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from commerce.models import Product
from instore.models import Placement, Store


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ["sku"]

    sku = "T900"  # get-or-create: placements share the treadmill unless told otherwise
    name = "T900 Folding Treadmill"
    price = Decimal("1299.00")
    currency = "USD"


class StoreFactory(DjangoModelFactory):
    class Meta:
        model = Store

    name = "Downtown"
    address = "12 Market Street\nSpringfield"
    time_zone = "America/New_York"
    phone = "+14155550100"
    business_hours = {"mon": [["09:00", "18:00"]], "sun": []}


class PlacementFactory(DjangoModelFactory):
    class Meta:
        model = Placement

    store = factory.SubFactory(StoreFactory)
    product = factory.SubFactory(ProductFactory)
    label = "aisle 4, end cap"
