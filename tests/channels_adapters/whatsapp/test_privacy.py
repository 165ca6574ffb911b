"""WhatsApp in the customer's export and erasure: a first-class channel, nothing special."""

import pytest

from channels_adapters.sms.backends import LocmemBackend as SmsLocmem
from channels_adapters.whatsapp.outbound import send_whatsapp
from conversations import outbox
from conversations.models import Customer, Event
from privacy.erasure import erase_customer
from privacy.export import export_customer

from .conftest import SHOPPER, replay, write_in

pytestmark = pytest.mark.django_db


def whatsapp_history(sent) -> Customer:
    replay("inbound_location")
    write_in(n=2)
    customer = Customer.objects.get()
    outbox.deliver(send_whatsapp(customer=customer, body="See you there!").outbox.pk)
    return customer


def test_the_export_holds_the_whatsapp_identity_messages_and_sends(sent):
    customer = whatsapp_history(sent)

    exported = export_customer(customer)

    text = str(exported)
    assert "whatsapp" in text and SHOPPER in text
    channels = {row["channel"] for row in exported["timeline"]}
    assert "whatsapp" in channels
    assert [row["channel"] for row in exported["messages_sent"]] == ["whatsapp"]
    assert any(row.get("data", {}).get("location") for row in exported["timeline"])


def test_erasure_drops_the_profile_name_and_location_and_asks_twilio_to_delete(sent, agent):
    SmsLocmem.deleted.clear()
    customer = whatsapp_history(sent)
    sids = set(
        Event.objects.filter(channel="whatsapp", direction="in").values_list("source_id", flat=True)
    )

    erase_customer(customer, by=agent)

    for event in Event.objects.filter(channel="whatsapp"):
        assert "location" not in event.data and "profile_name" not in event.data
        assert "from" not in event.data and SHOPPER not in event.body
    assert sids <= {sid for kind, sid in SmsLocmem.deleted if kind == "message"}
    SmsLocmem.deleted.clear()
