"""Persona rules match the right customers, in the context and in the members table."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from commerce.models import Cart, Order, Product, ProductInterest
from conversations import journal
from conversations.context import build_context
from conversations.identities import resolve_customer
from insights.models import Persona, PersonaMember
from insights.personas import personas_of, refresh_members, validate_rules
from instore.scans import record_scan
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shoppers():
    """researcher: scanned in store, never bought; starter: viewed the T900, cart >= 1000;
    buyer: bought the T900, wrote by SMS, first seen 40 days ago."""
    placement = PlacementFactory()
    researcher = resolve_customer("visitor", "v_research")
    record_scan(placement=placement, visitor_id="v_research")
    starter = resolve_customer("email", "starter@example.org")
    now = timezone.now()
    ProductInterest.objects.create(
        customer=starter,
        product=placement.product,
        views=3,
        first_viewed_at=now,
        last_viewed_at=now,
    )
    Cart.objects.create(customer=starter, value=Decimal("1299.00"), item_count=1)
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        buyer = resolve_customer("phone", "+14155550142")
    Order.objects.create(
        external_id="o1",
        customer=buyer,
        currency="USD",
        total=Decimal("1299"),
        items=[{"sku": "T900", "quantity": 1}],
        placed_at=timezone.now(),
    )
    journal.record(customer=buyer, channel="sms", kind="message", direction="in", body="hi")
    return {"researcher": researcher, "starter": starter, "buyer": buyer, "store": placement.store}


def persona(slug, *rules):
    return Persona.objects.create(name=slug.replace("-", " "), slug=slug, rules=list(rules))


def test_each_rule_matches_the_right_customers(shoppers):
    store = shoppers["store"]
    expectations = {
        persona(
            "in-store-researchers",
            {"field": "scanned_in_store", "op": "is", "value": "any"},
            {"field": "orders", "op": "=", "value": 0},
        ): {"researcher"},
        persona("downtown", {"field": "scanned_in_store", "op": "is", "value": store.pk}): {
            "researcher"
        },
        persona(
            "home-gym-starter",
            {"field": "viewed", "op": "is", "value": "T900"},
            {"field": "cart_value", "op": ">=", "value": 1000},
        ): {"starter"},
        persona("t900-owners", {"field": "bought", "op": "is", "value": "T900"}): {"buyer"},
        persona("texters", {"field": "channel_used", "op": "is", "value": "sms"}): {"buyer"},
        persona("old-friends", {"field": "days_since_first_contact", "op": ">=", "value": 30}): {
            "buyer"
        },
    }
    names = {c.pk: name for name, c in shoppers.items() if name != "store"}
    for p, expected in expectations.items():
        assert refresh_members(p) == len(expected)
        members = {
            names[m]
            for m in PersonaMember.objects.filter(persona=p).values_list("customer_id", flat=True)
        }
        assert members == expected, p.slug
        for name, customer in shoppers.items():
            if name != "store":
                assert (p in personas_of(customer)) == (name in expected), (p.slug, name)


def test_a_customers_personas_show_in_the_context(shoppers):
    persona("in-store-researchers", {"field": "scanned_in_store", "op": "is", "value": "any"})
    context = build_context(shoppers["researcher"])
    assert [p["slug"] for p in context.extra["personas"]] == ["in-store-researchers"]
    assert build_context(shoppers["buyer"]).extra["personas"] == []


@pytest.mark.parametrize(
    "rules",
    [
        [],
        [{"field": "shoe_size", "op": "is", "value": 9}],
        [{"field": "orders", "op": "is", "value": 1}],
        [{"field": "orders", "op": ">=", "value": "many"}],
        [{"field": "viewed", "op": ">=", "value": "T900"}],
        [{"field": "viewed", "op": "is"}],
    ],
)
def test_bad_rules_are_refused_with_the_reason(rules):
    with pytest.raises(ValidationError):
        validate_rules(rules)


def test_a_product_table_is_not_needed_for_the_rules_to_run():
    assert not Product.objects.exists()
    p = persona("any-buyer", {"field": "orders", "op": ">=", "value": 1})
    assert refresh_members(p) == 0
