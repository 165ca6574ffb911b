"""Evaluation left, after hours, post purchase and missed call: each fires when due, not
before; the admin's configuration is what they use."""

from datetime import timedelta

import pytest
from django.utils import timezone

from commerce.models import Order, Product
from conversations import journal
from conversations.models import Event
from engagement.models import RuleConfig, Watch
from engagement.rules import after_hours, missed_call
from instore.models import Store
from tests.commerce import helpers as shop
from tests.engagement.conftest import SHOP_NUMBER, nudges, shopper

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewed(hooks):
    counter = iter(range(1, 1000))

    def view(customer):
        return hooks(shop.view, customer, f"view-{next(counter)}")

    return view


def test_an_evaluation_left_is_followed_up_after_a_day_away(clock, dana, viewed, sweep):
    viewed(dana)
    clock.at(timedelta(hours=2))
    viewed(dana)

    clock.at(timedelta(hours=25, minutes=59))
    sweep()
    assert not nudges()

    clock.at(timedelta(hours=26))
    sweep()

    (nudge,) = nudges()
    assert (nudge.rule, nudge.topic, nudge.status) == ("evaluation_left", "offers", "sent")
    assert nudge.body == (
        "Hi Dana, when you're ready to talk about the T900 treadmill, we're here: "
        "just reply to this message."
    )


def test_one_look_is_not_an_evaluation_and_a_cart_hands_over_to_the_cart_rule(
    clock, viewed, fill_cart, sweep
):
    glance = shopper(phone="+14155550160")
    viewed(glance)
    carted = shopper(phone="+14155550161")
    viewed(carted)
    viewed(carted)
    fill_cart(carted)

    clock.at(timedelta(hours=30))
    sweep()

    assert [n.rule for n in nudges()] == ["cart_abandoned"]
    assert Watch.objects.get(rule="evaluation_left", customer=carted).closed_reason == "in a cart"


@pytest.fixture
def store(db):
    return Store.objects.create(
        name="Downtown",
        time_zone="America/Los_Angeles",
        phone=SHOP_NUMBER,
        business_hours={d: [["09:00", "18:00"]] for d in ["mon", "tue", "wed", "thu", "fri"]},
    )


def test_a_text_after_hours_is_acknowledged_once_with_the_opening_time_and_a_call_back_link(
    clock, dana, store, text_us
):
    clock.at(timedelta(hours=12))  # 22:00 on Tuesday in San Francisco: closed

    text_us("Do you have the T900 in stock?")
    text_us("Hello?")

    (ack,) = nudges(rule="after_hours")
    assert ack.status == "sent" and ack.channel == "sms"
    assert "Downtown is closed right now; we open again tomorrow at 9am" in ack.body
    assert "https://shop.example.com/c/" in ack.body and ack.body.endswith("/callback/")


def test_a_text_while_the_store_is_open_is_not_acknowledged(clock, dana, store, text_us):
    text_us("Do you have the T900 in stock?")  # 10:00 on a Tuesday

    assert not nudges(rule="after_hours")


def test_acknowledge_can_be_called_by_routing_too_without_a_second_message(
    clock, dana, store, text_us
):
    clock.at(timedelta(hours=12))
    message = text_us("Anyone there?")

    assert after_hours.acknowledge(message) is None  # the hook acknowledged it already
    assert len(nudges(rule="after_hours")) == 1


def test_help_with_assembly_three_days_after_delivery(clock, dana, hooks, sweep):
    Product.objects.create(sku="T900", name="T900 treadmill", needs_assembly=True)
    hooks(shop.order, dana, "order-1", items=[shop.T900])
    order = Order.objects.get()
    clock.at(timedelta(days=2))
    sweep()
    assert not nudges()

    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now())
    clock.at(timedelta(days=5) - timedelta(minutes=1))
    sweep()
    assert not nudges()

    clock.at(timedelta(days=5))
    sweep()

    (nudge,) = nudges()
    assert nudge.rule == "post_purchase" and nudge.status == "sent"
    assert "How is the T900 treadmill going?" in nudge.body


def test_an_order_without_assembly_is_not_watched(clock, dana, hooks):
    Product.objects.create(sku="T900", name="T900 treadmill", needs_assembly=False)

    hooks(shop.order, dana, "order-1", items=[shop.T900])

    assert not Watch.objects.filter(rule="post_purchase").exists()


def test_the_missed_call_offer_carries_the_call_back_link(clock, dana):
    missed = journal.record(
        customer=dana, channel="voice", kind="missed_call", direction="in", source_id="CA1:m"
    )

    nudge = missed_call.offer_call_back(missed, phone="+14155550123")

    assert nudge.status == "sent" and nudge.data["proposal"] == "call_back_offer"
    assert nudge.body.startswith("Sorry we missed your call, Dana.")
    assert "/callback/" in nudge.body
    assert nudge.message.data["proposal"] == "call_back_offer"


def test_a_rule_switched_off_in_the_admin_proposes_nothing(clock, dana, fill_cart, sweep):
    missed_call.RULE.config()
    RuleConfig.objects.filter(slug="missed_call").update(enabled=False)
    missed = journal.record(
        customer=dana, channel="voice", kind="missed_call", direction="in", source_id="CA2:m"
    )

    assert missed_call.offer_call_back(missed) is None
    assert not Event.objects.filter(kind="nudge").exists()


def test_the_admins_delays_and_templates_are_used(clock, dana, fill_cart, sweep):
    from engagement.rules import cart_abandoned

    config = cart_abandoned.RULE.config()
    config.steps.filter(number=1).update(
        delay_minutes=15, template="{{ first_name }}, your {{ product }} ({{ cart_value }}) waits."
    )
    fill_cart(dana)

    clock.at(timedelta(minutes=15))
    sweep()

    assert nudges()[0].body == "Dana, your T900 treadmill ($1,999.00) waits."
