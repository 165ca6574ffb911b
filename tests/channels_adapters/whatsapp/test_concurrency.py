"""WhatsApp webhooks at the same moment: one event per message, one customer per number."""

import pytest

from conversations.models import Customer, Event
from tests.fakes.twilio_payloads import payload, post_signed

from .conftest import INBOUND_URL, SHOPPER

pytestmark = pytest.mark.django_db(transaction=True)


def post(url: str, form: dict) -> int:
    return post_signed(url, form).status_code


@pytest.mark.parametrize("urls", [(INBOUND_URL,) * 4, (INBOUND_URL, "/hooks/twilio/sms/") * 2])
def test_one_message_delivered_four_times_at_once_is_one_event(concurrently, urls):
    form = payload("whatsapp", "inbound_text")

    codes = concurrently(post, [(url, form) for url in urls])

    assert codes == [200] * len(urls)
    assert Event.objects.filter(source_id=form["MessageSid"]).count() == 1
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_first_contacts_by_sms_and_whatsapp_at_once_are_one_customer(concurrently, attempt):
    sms = payload("sms", "inbound_sms", From=SHOPPER)
    whatsapp = payload("whatsapp", "inbound_text", From=f"whatsapp:{SHOPPER}")

    codes = concurrently(post, [("/hooks/twilio/sms/", sms), (INBOUND_URL, whatsapp)])

    assert codes == [200, 200]
    live = Customer.objects.get(merged_into=None)
    assert sorted(live.identities.values_list("kind", flat=True)) == ["phone", "whatsapp"]
    assert sorted(
        live.conversation.events.filter(direction="in").values_list("channel", flat=True)
    ) == [
        "sms",
        "whatsapp",
    ]
