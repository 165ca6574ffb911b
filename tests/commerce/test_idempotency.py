"""The same event_id arriving many times at once is stored once (real threads, real PostgreSQL)."""

import pytest

from commerce.ingest import ingest_events
from commerce.models import Cart, CartItem, Order
from commerce.validation import validate_event
from conversations.models import Conversation, Event
from tests.commerce.helpers import BIKE, T900
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_concurrent_deliveries_of_one_cart_event_write_one_event_and_one_cart(
    concurrently,
):
    customer = CustomerFactory()
    snapshot = validate_event(
        event_id="c-1",
        type="cart_updated",
        payload={"currency": "USD", "items": [T900, BIKE]},
    )

    outcomes = concurrently(ingest_events, [([(customer, snapshot)],)] * 20)

    assert Event.objects.filter(source_id="c-1").count() == 1
    assert sorted(o[0].duplicate for o in outcomes) == [False] + [True] * 19
    assert len({o[0].event.pk for o in outcomes}) == 1
    assert Cart.objects.count() == 1 and CartItem.objects.count() == 2
    assert Conversation.objects.get(customer=customer).last_seq == 1


def test_concurrent_batches_sharing_events_and_customers_neither_deadlock_nor_double_write(
    concurrently,
):
    customers = [CustomerFactory() for _ in range(4)]
    events = [
        (customers[n % 4], validate_event(
            event_id=f"o-{n}",
            type="order_placed",
            payload={"order_id": f"{n}", "currency": "USD", "items": [T900]},
        ))
        for n in range(12)
    ]  # fmt: skip
    # each batch lists the same events in another order
    batches = [(events[k:] + events[:k],) for k in range(0, 12, 2)]

    concurrently(ingest_events, batches)

    assert Event.objects.filter(kind="order").count() == 12
    assert Order.objects.count() == 12
    for customer in customers:
        assert Conversation.objects.get(customer=customer).last_seq == 3
