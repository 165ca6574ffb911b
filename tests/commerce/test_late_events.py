"""Events are applied in the order they happened, not the order they arrived.

Each scenario ingests the same events in several arrival orders, one customer per order,
and checks that every order leaves the same active cart and the same orders, while the
journal keeps every event at its own time.
"""

from datetime import timedelta
from itertools import permutations

import pytest
from django.utils import timezone

from commerce.ingest import ingest_events
from commerce.models import Cart, Order
from commerce.validation import validate_event
from conversations.context import build_context, greeting
from conversations.models import Event
from tests.commerce.helpers import BIKE, T900
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TREADMILL = {**T900, "name": "T900 Folding Treadmill"}
NOW = timezone.now().replace(microsecond=0) - timedelta(hours=1)


def at(minute: int):
    return NOW + timedelta(minutes=minute)


def snapshot(minute, *items):
    return ("cart_updated", {"currency": "USD", "items": list(items)}, minute)


def checkout(minute):
    return ("checkout_started", {}, minute)


def placed(minute):
    return ("order_placed", {"currency": "USD", "items": [T900]}, minute)


def arrive(customer, events, *, one_batch=False):
    """Ingest (type, payload, minute) events in the order given."""
    items = [
        validate_event(
            event_id=f"{customer.pk}-{type_}-{minute}",
            type=type_,
            # order ids are unique across customers: each customer's order has its own
            payload={**payload, "order_id": f"o-{customer.pk}"}
            if type_ == "order_placed"
            else payload,
            occurred_at=at(minute),
        )
        for type_, payload, minute in events
    ]
    if one_batch:
        ingest_events([(customer, item) for item in items])
    else:
        for item in items:
            ingest_events([(customer, item)])


def state(customer):
    """What the shop's events leave for this customer: the active cart and the orders."""
    cart = Cart.objects.filter(customer=customer, status__in=Cart.ACTIVE).first()
    active = cart and (
        cart.status,
        tuple((line.sku, line.quantity) for line in cart.items.all()),
        cart.snapshot_at,
        cart.checkout_started_at,
    )
    orders = Order.objects.filter(customer=customer).order_by("placed_at")
    return active, tuple(order.placed_at for order in orders)


def final_states(events, orders_of_arrival, *, one_batch=False):
    states = {}
    for arrival in orders_of_arrival:
        customer = CustomerFactory()
        arrive(customer, [events[n] for n in arrival], one_batch=one_batch)
        states[arrival] = state(customer)
        journal = Event.objects.filter(conversation__customer=customer)
        assert journal.count() == len(events)  # every event is kept, late or not
        assert sorted(journal.values_list("occurred_at", flat=True)) == sorted(
            at(minute) for _, _, minute in events
        )
    return states


def every(states: dict, expected: tuple) -> dict:
    """`expected` for each arrival order: compared with `states`, a failure names the order."""
    return dict.fromkeys(states, expected)


def test_a_cart_snapshot_arriving_after_its_order_opens_no_cart():
    # given: the shopper put the treadmill in the cart, then bought it
    events = [snapshot(1, TREADMILL), placed(5)]

    # when: the snapshot arrives before, or after, the order
    states = final_states(events, [(0, 1), (1, 0)])

    # then: no cart is left open either way, and the greeting does not offer the cart
    assert states == every(states, (None, (at(5),)))
    late = CustomerFactory()
    arrive(late, [events[1], events[0]])
    assert "in your cart" not in greeting(build_context(late))


def test_an_order_arriving_after_the_next_carts_snapshot_closes_only_the_old_cart():
    # treadmill in the cart, checkout, order; then a bike in a new cart
    events = [snapshot(1, TREADMILL), checkout(2), placed(3), snapshot(4, BIKE)]

    states = final_states(events, list(permutations(range(4))))

    open_bike_cart = (Cart.Status.OPEN, (("B200", 2),), at(4), None)
    assert states == every(states, (open_bike_cart, (at(3),)))


def test_the_same_events_in_one_batch_give_the_same_state_whatever_their_order():
    events = [snapshot(1, TREADMILL), checkout(2), placed(3), snapshot(4, BIKE), checkout(6)]

    states = {
        **final_states(events, [(0, 1, 2, 3, 4), (4, 3, 2, 1, 0), (3, 4, 0, 2, 1)], one_batch=True),
        **final_states(events, [(4, 2, 0, 3, 1)]),  # and one event per batch
    }

    bike_in_checkout = (Cart.Status.CHECKOUT, (("B200", 2),), at(4), at(6))
    assert states == every(states, (bike_in_checkout, (at(3),)))


def test_a_checkout_after_an_order_that_arrives_late_starts_the_next_cart():
    # the treadmill is bought; the shopper then starts another checkout (no snapshot yet)
    events = [snapshot(1, TREADMILL), checkout(2), placed(3), checkout(5)]

    states = final_states(events, list(permutations(range(4))))

    empty_checkout = (Cart.Status.CHECKOUT, (), None, at(5))
    assert states == every(states, (empty_checkout, (at(3),)))


def test_a_late_checkout_from_before_a_newer_snapshot_keeps_the_latest_checkout_time():
    events = [snapshot(1, TREADMILL), checkout(2), snapshot(3, TREADMILL, BIKE), checkout(4)]

    states = final_states(events, list(permutations(range(4))))

    both = (Cart.Status.CHECKOUT, (("T900", 1), ("B200", 2)), at(3), at(4))
    assert states == every(states, (both, ()))


def test_a_late_snapshot_never_overwrites_a_newer_one():
    events = [snapshot(1, TREADMILL), snapshot(2, BIKE), snapshot(3, TREADMILL, BIKE)]

    states = final_states(events, list(permutations(range(3))))

    both = (Cart.Status.OPEN, (("T900", 1), ("B200", 2)), at(3), None)
    assert states == every(states, (both, ()))


def test_events_with_the_same_time_apply_in_arrival_order():
    customer = CustomerFactory()

    # an order, then a snapshot the shop stamped with the same second: a new cart
    arrive(customer, [placed(3), snapshot(3, BIKE)], one_batch=True)

    assert state(customer)[0] == (Cart.Status.OPEN, (("B200", 2),), at(3), None)
