"""delivery.update_delivery_status: callbacks in any order leave the status they would in
Twilio's order (queued < sending/sent < delivered/undelivered/failed, then read)."""

from itertools import permutations

import pytest

from conversations import journal
from conversations.delivery import update_delivery_status
from conversations.models import Event
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def outbound():
    return journal.record(
        customer=CustomerFactory(),
        channel=Event.Channel.SMS,
        kind="message",
        direction=Event.Direction.OUT,
        body="Your order has shipped",
        delivery_status="pending",
    )


def final_status(statuses) -> str:
    event = outbound()
    for status in statuses:
        update_delivery_status(event, status)
    return Event.objects.get(pk=event.pk).delivery_status


@pytest.mark.parametrize(
    ("callbacks", "final"),
    [
        (["queued", "sending", "sent", "delivered"], "delivered"),
        (["queued", "sent", "undelivered"], "undelivered"),
        (["queued", "sent", "failed"], "failed"),
        (["queued", "sent", "delivered", "read"], "read"),  # WhatsApp
        (["sent", "read"], "read"),  # the `delivered` callback never came
    ],
)
def test_every_arrival_order_of_the_callbacks_leaves_the_same_status(callbacks, final):
    finals = {order: final_status(order) for order in permutations(callbacks)}

    assert finals == dict.fromkeys(finals, final)


def test_a_late_sent_after_delivered_stays_delivered_and_says_it_did_not_move():
    event = outbound()
    assert update_delivery_status(event, "delivered")

    assert not update_delivery_status(event, "sent")

    assert Event.objects.get(pk=event.pk).delivery_status == "delivered"


def test_a_read_receipt_never_undoes_a_failure():
    assert final_status(["failed", "read"]) == "failed"
    assert final_status(["undelivered", "read"]) == "undelivered"


def test_the_first_final_status_stands_and_a_late_error_is_not_written():
    event = outbound()
    update_delivery_status(event, "delivered")

    moved = update_delivery_status(event, "failed", error_code="30008", reason="Carrier error.")

    assert not moved
    event.refresh_from_db()
    assert event.delivery_status == "delivered" and "delivery_error" not in event.data
