"""The arbiter and WhatsApp's window: a proactive nudge goes as free text inside the 24-hour
window, as the topic's approved template outside it, or not at all, with the reason (and
then by the nudge's next channel)."""

from datetime import timedelta

import pytest

from conversations import consent
from conversations.models import Customer, Event, Identity, Outbox
from engagement import arbiter
from tests.factories import CustomerFactory

from .conftest import SHOPPER, write_in

pytestmark = pytest.mark.django_db

TEMPLATE = "HX" + "d" * 32


def dana() -> Customer:
    return Customer.objects.get(merged_into=None)


def propose(*, topic="service_followups", channels=("whatsapp", "sms"), **data):
    return arbiter.propose(
        dana(),
        rule="post_purchase",
        step=1,
        dedupe_key=f"k-{topic}",
        topic=topic,
        body="How is the T900 treating you?",
        channels=channels,
        data=data,
    )


def decision(nudge) -> Event:
    return Event.objects.get(kind="nudge", data__nudge=nudge.pk)


def add_phone():
    Identity.objects.create(customer=dana(), kind="phone", value=SHOPPER)


def test_inside_the_window_a_nudge_goes_as_free_text_on_whatsapp(clock, sent):
    write_in()
    clock.at(timedelta(hours=2))

    nudge = propose()

    assert (nudge.status, nudge.channel) == ("sent", "whatsapp")
    assert nudge.message.data["whatsapp"]["mode"] == "session"
    assert nudge.message.body == "How is the T900 treating you?"
    recorded = decision(nudge)
    assert recorded.body.endswith("sent by WHATSAPP (free text in the 24-hour window)")
    assert recorded.data["whatsapp"] == "free text in the 24-hour window"
    assert Outbox.objects.get().channel == "whatsapp"


def test_outside_the_window_the_topics_template_goes_and_the_decision_says_so(
    clock, sent, settings
):
    settings.THROUGHLINE_WHATSAPP_TEMPLATES = {"service_followups": TEMPLATE}
    write_in()
    clock.at(timedelta(days=2))

    nudge = propose(template_variables={"1": "Dana"})

    assert (nudge.status, nudge.channel) == ("sent", "whatsapp")
    decided = nudge.message.data["whatsapp"]
    assert (decided["mode"], decided["content_sid"]) == ("template", TEMPLATE)
    assert decided["content_variables"] == {"1": "Dana"}
    assert decision(nudge).data["whatsapp"] == f"template {TEMPLATE}"


def test_outside_the_window_without_a_template_it_goes_by_the_next_channel(clock, sent):
    write_in()
    add_phone()
    clock.at(timedelta(days=2))

    nudge = propose()

    assert (nudge.status, nudge.channel) == ("sent", "sms")
    assert Outbox.objects.get().channel == "sms"


def test_outside_the_window_without_a_template_or_another_channel_it_is_not_sent(clock):
    write_in()
    clock.at(timedelta(days=2))

    nudge = propose()

    assert nudge.status == "suppressed"
    assert nudge.reason.startswith("whatsapp: outside WhatsApp's 24-hour window (closed since")
    assert "no approved template for service followups" in nudge.reason
    assert "sms: no phone number" in nudge.reason
    assert decision(nudge).data["reason"] == nudge.reason
    assert not Outbox.objects.exists()


def test_a_marketing_nudge_needs_whatsapp_consent_on_record(clock, sent):
    write_in()

    refused = propose(topic="cart_reminders", channels=("whatsapp",))
    consent.opt_in(  # ticked at checkout: the ledger keeps the words as the proof
        Identity.objects.get(kind="whatsapp"),
        source="checkout",
        proof=consent.Proof(text="Send me cart reminders on WhatsApp", version="v1"),
    )
    allowed = arbiter.propose(
        dana(), rule="cart_abandoned", step=1, dedupe_key="k2", topic="cart_reminders",
        body="Your T900 is waiting", channels=("whatsapp",),
    )  # fmt: skip

    assert refused.status == "suppressed"
    assert refused.reason == "whatsapp: no consent on record for cart reminders by WhatsApp"
    assert (allowed.status, allowed.channel) == ("sent", "whatsapp"), allowed.reason


def test_a_whatsapp_stop_is_respected_even_inside_the_window(clock):
    write_in(n=1)
    write_in("STOP", n=2)

    nudge = propose(channels=("whatsapp",))

    assert nudge.status == "suppressed"
    assert nudge.reason == "whatsapp: opted out (whatsapp:STOP)"


def test_a_customer_without_whatsapp_is_told_so(clock):
    CustomerFactory()

    nudge = propose(channels=("whatsapp",))

    assert nudge.reason == "whatsapp: no WhatsApp account"
