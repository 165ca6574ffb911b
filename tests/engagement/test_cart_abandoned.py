"""Cart abandoned: 1 h after the last change, then 24 h later; pauses on a question, stops
on an order or STOP."""

from datetime import timedelta

import pytest

from commerce.models import Cart
from conversations import consent
from conversations.models import Event, Identity, Outbox
from engagement.models import Watch
from tests.commerce import helpers as shop
from tests.engagement.conftest import PHONE, nudges, shopper

pytestmark = pytest.mark.django_db


def test_the_first_reminder_goes_an_hour_after_the_cart_last_changed_and_not_before(
    clock, dana, fill_cart, sweep
):
    fill_cart(dana)

    clock.at(timedelta(minutes=59))
    sweep()
    assert not nudges()

    clock.at(timedelta(minutes=60))
    sweep()

    (nudge,) = nudges()
    assert (nudge.rule, nudge.step, nudge.status, nudge.channel) == (
        "cart_abandoned", 1, "sent", "sms"
    )  # fmt: skip
    assert nudge.body.startswith("Hi Dana! Still thinking about the T900 treadmill?")
    assert nudge.outbox == Outbox.objects.get()
    assert nudge.outbox.to_address == PHONE and nudge.outbox.body == nudge.body
    recorded = Event.objects.get(pk=nudge.event_id)
    assert (recorded.kind, recorded.direction) == ("nudge", "internal")
    assert recorded.data["sent"] is True and recorded.data["rule"] == "cart_abandoned"


def test_the_second_reminder_follows_a_day_later_and_the_sequence_ends(
    clock, dana, fill_cart, sweep
):
    fill_cart(dana)
    clock.at(timedelta(hours=1))
    sweep()

    clock.at(timedelta(hours=24, minutes=59))
    sweep()
    assert len(nudges()) == 1

    clock.at(timedelta(hours=25))
    sweep()
    first, second = nudges()
    assert first.status == "sent"
    assert second.step == 2 and second.status == "sent"
    assert "$1,999.00" in second.body and "/preferences/" in second.body

    clock.at(timedelta(days=5))
    sweep()
    assert len(nudges()) == 2
    assert Watch.objects.get().closed_reason == "sequence done"


def test_a_cart_that_changes_starts_the_hour_again(clock, dana, fill_cart, sweep):
    fill_cart(dana)
    clock.at(timedelta(minutes=40))
    fill_cart(dana, items=[{"sku": "B200", "name": "B200 bike", "quantity": 1, "price": "800"}])

    clock.at(timedelta(minutes=61))
    sweep()
    assert not nudges()

    clock.at(timedelta(minutes=100))
    sweep()
    assert "B200 bike" in nudges()[0].body


def test_an_empty_cart_or_one_below_the_threshold_gets_nothing(clock, fill_cart, sweep):
    cheap = shopper(phone="+14155550140")
    fill_cart(cheap, items=[{"sku": "S1", "name": "Socks", "quantity": 1, "price": "9.00"}])
    emptied = shopper(phone="+14155550141")
    fill_cart(emptied)
    clock.at(timedelta(minutes=10))
    fill_cart(emptied, items=[])

    clock.at(timedelta(hours=3))
    sweep()

    assert not nudges()
    assert Cart.objects.get(customer=emptied).item_count == 0


def test_a_question_pauses_the_sequence_and_is_attributed(clock, dana, fill_cart, sweep, text_us):
    fill_cart(dana)
    clock.at(timedelta(hours=1))
    sweep()

    clock.at(timedelta(hours=2))
    text_us("Is the warranty 5 years?")
    clock.at(timedelta(hours=25, minutes=59))  # step 2 was due at 25 h: paused instead
    sweep()

    (nudge,) = nudges()
    assert nudge.replied_at == clock.start + timedelta(hours=2)
    watch = Watch.objects.get()
    assert watch.closed_reason == "" and watch.step == 1
    assert watch.next_action_at == clock.start + timedelta(hours=26)  # 24 h after she wrote


def test_an_order_stops_the_sequence_and_is_attributed(clock, dana, fill_cart, sweep, hooks):
    fill_cart(dana)
    clock.at(timedelta(hours=1))
    sweep()

    clock.at(timedelta(hours=3))
    hooks(shop.order, dana, "order-1", items=[{**shop.T900, "price": "1999.00"}])
    clock.at(timedelta(hours=30))
    sweep()

    (nudge,) = nudges()
    assert nudge.ordered_at == clock.start + timedelta(hours=3)
    assert Watch.objects.get(rule="cart_abandoned").closed_reason == "ordered"


def test_stop_withdraws_a_waiting_step_and_ends_the_sequence(clock, dana, fill_cart, sweep, hooks):
    fill_cart(dana)
    clock.at(timedelta(hours=1))
    sweep()
    # the second step is proposed but waits for the night to end
    clock.at(timedelta(hours=25) + timedelta(hours=11))  # 21:00 local: quiet hours
    sweep()
    (waiting,) = nudges(step=2)
    assert waiting.status == "waiting" and waiting.reason.startswith("quiet hours")

    hooks(consent.opt_out, Identity.objects.get(value=PHONE), source="sms:STOP")
    clock.at(timedelta(days=3))
    sweep()

    waiting.refresh_from_db()
    assert waiting.status == "suppressed" and waiting.reason == "opted out"
    assert nudges(step=1)[0].opted_out_at is not None
    assert Outbox.objects.count() == 1


def test_once_the_conversation_goes_quiet_the_follow_up_goes_where_she_asked(
    clock, dana, fill_cart, sweep, text_us
):
    fill_cart(dana)
    clock.at(timedelta(hours=1))
    sweep()
    clock.at(timedelta(hours=2))
    text_us("Is the warranty 5 years?")

    clock.at(timedelta(hours=26))  # 24 h without a word from her or an agent
    sweep()

    first, follow_up = nudges()
    assert first.status == "sent" and first.step == 1
    assert (follow_up.status, follow_up.channel, follow_up.step) == ("sent", "sms", 2)
    assert follow_up.body == (
        "Dana, whenever you are ready to talk about the T900 treadmill, we are here: "
        "just reply to this message."
    )
    assert follow_up.outbox.to_address == PHONE
    assert Watch.objects.get().closed_reason == "followed up"
    clock.at(timedelta(days=5))
    sweep()
    assert len(nudges()) == 2  # the rest of the sequence does not come back


def test_an_agent_answering_keeps_the_conversation_going(
    clock, dana, fill_cart, sweep, text_us, agent
):
    from conversations import outbox

    fill_cart(dana)
    clock.at(timedelta(hours=2))
    text_us("Does it fold?")
    clock.at(timedelta(hours=3))
    outbox.send(customer=dana, channel="sms", body="It does, flat to 20 cm.", author=agent)

    clock.at(timedelta(hours=26))
    sweep()
    assert not nudges()
    assert Watch.objects.get().next_action_at == clock.start + timedelta(hours=27)

    clock.at(timedelta(hours=27))
    sweep()
    (follow_up,) = nudges()
    assert follow_up.status == "sent"


def test_the_follow_up_goes_nowhere_when_no_channel_is_allowed(clock, fill_cart, sweep, text_us):
    quiet = shopper(consent=False)  # may text us; no consent on record for reminders
    fill_cart(quiet)
    clock.at(timedelta(hours=2))
    text_us("Is it in stock in Denver?")

    clock.at(timedelta(hours=26))
    sweep()

    (follow_up,) = nudges()
    assert follow_up.status == "suppressed"
    assert follow_up.reason == (
        "sms: no consent on record for cart reminders by SMS; web: no widget visitor"
    )
    assert not Outbox.objects.exists()
    assert Watch.objects.get().closed_reason == "followed up"
