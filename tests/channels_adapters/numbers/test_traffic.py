"""Two stores on two numbers and two Twilio accounts: each receives, verifies and answers
only its own traffic (docs/twilio.md, "Several numbers and accounts")."""

import base64
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import time_machine

from channels_adapters.numbers.context import provide
from channels_adapters.numbers.models import MessagingNumber
from channels_adapters.sms.outbound import send_sms
from channels_adapters.voice.outbound import call_back
from conversations import outbox
from conversations.models import Event, Identity, Outbox

from .conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    AGENT_PHONE,
    NUMBER_A,
    NUMBER_B,
    OTHER,
    SHOPPER,
    TOKEN_A,
    TOKEN_B,
    UNKNOWN,
    call_sid,
    sms_sid,
)

pytestmark = pytest.mark.django_db


def said(response) -> str:
    assert response.status_code == 200, response.content
    root = ET.fromstring(response.content)  # noqa: S314  # our own answer
    return " ".join(say.text or "" for say in root.iter("Say"))


def basic_user(request) -> str:
    """The account SID the REST client authenticated as."""
    return base64.b64decode(request.authorization.removeprefix("Basic ")).decode().split(":")[0]


def test_each_store_receives_its_own_texts_signed_with_its_own_account(shop, webhooks):
    to_a = webhooks.sms(to=NUMBER_A, account=ACCOUNT_A, token=TOKEN_A, sid=sms_sid(1))
    to_b = webhooks.sms(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=sms_sid(2))

    assert (to_a.status_code, to_b.status_code) == (200, 200)
    tos = Event.objects.filter(kind="message").order_by("seq").values_list("data__to", flat=True)
    assert list(tos) == [NUMBER_A, NUMBER_B]


@pytest.mark.parametrize(
    ("to", "account", "token", "why"),
    [
        # A's number and A's SID, but signed with B's token
        (NUMBER_A, ACCOUNT_A, TOKEN_B, "X-Twilio-Signature"),
        # B signs honestly, but for A's number: not B's traffic
        (NUMBER_A, ACCOUNT_B, TOKEN_B, "not a number of the account"),
        # a number nobody here owns, signed by A
        (UNKNOWN, ACCOUNT_A, TOKEN_A, "not a number of the account"),
        # an account we do not have
        (NUMBER_A, "AC" + "c" * 32, TOKEN_A, "not a Twilio account of ours"),
        # the settings' token no longer signs once accounts are rows
        (NUMBER_A, ACCOUNT_A, "the-settings-token-not-a-or-b-000", "X-Twilio-Signature"),
    ],
)
def test_traffic_for_another_account_or_number_is_refused_and_writes_nothing(
    shop, webhooks, to, account, token, why
):
    response = webhooks.sms(to=to, account=account, token=token, sid=sms_sid(3))

    assert response.status_code == 403
    assert why in response.content.decode()
    assert not Event.objects.exists() and not Identity.objects.exists()


def test_without_an_account_sid_the_number_called_names_the_account(shop, webhooks):
    form = {"MessageSid": sms_sid(4), "From": SHOPPER, "To": NUMBER_B, "Body": "hi"}

    assert webhooks.post("/hooks/twilio/sms/", form, token=TOKEN_B).status_code == 200
    assert webhooks.post("/hooks/twilio/sms/", form, token=TOKEN_A).status_code == 403
    unknown = form | {"To": UNKNOWN, "MessageSid": sms_sid(5)}
    assert webhooks.post("/hooks/twilio/sms/", unknown, token=TOKEN_A).status_code == 403
    assert Event.objects.filter(kind="message").count() == 1


def test_a_status_callback_from_our_number_is_the_accounts(shop, webhooks, sent_sms):
    """A delivery report is about a message we sent: `From` is our number, `To` theirs."""
    form = {
        "MessageSid": sms_sid(6),
        "MessageStatus": "delivered",
        "AccountSid": ACCOUNT_B,
        "From": NUMBER_B,
        "To": SHOPPER,
    }

    assert webhooks.post("/hooks/twilio/sms/status/", form, token=TOKEN_B).status_code == 204
    assert webhooks.post("/hooks/twilio/sms/status/", form, token=TOKEN_A).status_code == 403
    wrong = form | {"AccountSid": ACCOUNT_A}
    assert webhooks.post("/hooks/twilio/sms/status/", wrong, token=TOKEN_A).status_code == 403


def test_a_number_switched_off_is_refused_at_once(shop, webhooks):
    MessagingNumber.objects.filter(phone_number=NUMBER_B).update(active=False)
    MessagingNumber.objects.get(phone_number=NUMBER_A).save()  # any save forgets the cache

    response = webhooks.sms(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=sms_sid(7))

    assert response.status_code == 403 and not Event.objects.exists()


def test_each_store_answers_the_phone_by_its_own_name(shop, webhooks):
    downtown = webhooks.call(to=NUMBER_A, account=ACCOUNT_A, token=TOKEN_A, sid=call_sid(1))
    harbor = webhooks.call(
        to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=call_sid(2), caller=OTHER
    )
    forged = webhooks.call(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_A, sid=call_sid(3))

    assert "thanks for calling Downtown" in said(downtown)
    assert "thanks for calling Harbor" in said(harbor)
    assert forged.status_code == 403
    assert Event.objects.filter(kind="call").count() == 2


# Harbor opens Mondays 9-18 in New York; Downtown has no hours (always open).
@time_machine.travel(datetime(2026, 11, 29, 15, 0, tzinfo=UTC), tick=False)  # a Sunday
def test_a_call_to_a_store_number_hears_that_stores_hours(shop, webhooks):
    harbor = shop["harbor"]
    harbor.business_hours = {"mon": [["09:00", "18:00"]]}
    harbor.save()

    at_harbor = said(webhooks.call(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=call_sid(4)))
    at_downtown = said(
        webhooks.call(to=NUMBER_A, account=ACCOUNT_A, token=TOKEN_A, sid=call_sid(5), caller=OTHER)
    )

    assert "We're closed right now. Our hours are Monday, 9am to 6pm." in at_harbor
    assert "closed" not in at_downtown and "thanks for calling Downtown" in at_downtown


def test_replies_leave_from_the_number_the_customer_last_used(shop, webhooks, fake_twilio):
    webhooks.sms(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=sms_sid(8))
    customer = Identity.objects.get(value=SHOPPER).customer

    event = send_sms(customer=customer, body="Your order is ready at Harbor")
    assert outbox.deliver(Outbox.objects.get(event=event).pk) == "sent"

    [request] = fake_twilio.sent
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_B}/Messages.json"
    assert basic_user(request) == ACCOUNT_B
    assert (request.value("From"), request.value("To")) == (NUMBER_B, SHOPPER)

    # they write to Downtown next: the next reply follows them there, through account A
    webhooks.sms(to=NUMBER_A, account=ACCOUNT_A, token=TOKEN_A, sid=sms_sid(9))
    event = send_sms(customer=customer, body="Downtown has it too")
    outbox.deliver(Outbox.objects.get(event=event).pk)

    assert fake_twilio.sent[1].path == f"/2010-04-01/Accounts/{ACCOUNT_A}/Messages.json"
    assert fake_twilio.sent[1].value("From") == NUMBER_A


def test_a_customer_who_never_wrote_hears_from_the_shops_default(shop, sent_sms):
    from tests.factories import CustomerFactory

    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="phone", value=SHOPPER)

    event = send_sms(customer=customer, body="Welcome")
    outbox.deliver(Outbox.objects.get(event=event).pk)

    [message] = sent_sms
    assert (message.from_number, message.messaging_service_sid) == (NUMBER_A, "")


def test_a_call_back_rings_from_the_stores_number_through_its_account(
    shop, webhooks, fake_twilio, agent, on_duty
):
    webhooks.sms(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=sms_sid(10))
    customer = Identity.objects.get(value=SHOPPER).customer

    event = call_back(customer=customer, agent=agent)

    [request] = fake_twilio.calls
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_B}/Calls.json"
    assert request.value("From") == NUMBER_B
    # the agent answers: Twilio (account B) asks for the bridge, which dials from Harbor
    bridge = webhooks.post(
        f"/hooks/twilio/voice/bridge/?call={event.pk}",
        {"CallSid": event.source_id, "AccountSid": ACCOUNT_B, "From": NUMBER_B, "To": AGENT_PHONE},
        token=TOKEN_B,
    )
    root = ET.fromstring(bridge.content)  # noqa: S314
    assert root.find("Dial").get("callerId") == NUMBER_B


def test_an_opt_out_follows_the_number_it_was_sent_to(shop, webhooks):
    webhooks.sms(to=NUMBER_A, account=ACCOUNT_A, token=TOKEN_A, sid=sms_sid(11))
    webhooks.sms(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=sms_sid(12), body="STOP")
    customer = Identity.objects.get(value=SHOPPER).customer

    part = provide(customer)

    assert part.opted_out_of == (NUMBER_B,)
    # Harbor heard STOP; Downtown, which they wrote to, still answers them
    assert part.as_extra()["numbers"] == {
        "sends_from": NUMBER_A,
        "store": "Downtown",
        "opted_out_of": [NUMBER_B],
    }
    webhooks.sms(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=sms_sid(13), body="START")
    assert provide(customer).opted_out_of == ()


def test_an_unsigned_request_hears_nothing_about_whose_numbers_are(shop, webhooks):
    form = {
        "MessageSid": sms_sid(20),
        "AccountSid": "AC" + "c" * 32,
        "From": SHOPPER,
        "To": UNKNOWN,
    }

    response = webhooks.client.post(
        "/hooks/twilio/sms/", urlencode(form), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 403 and b"X-Twilio-Signature" in response.content
    assert b"ours" not in response.content


def test_a_whatsapp_message_to_a_stores_number_is_that_stores(shop, webhooks):
    MessagingNumber.objects.filter(phone_number=NUMBER_B).update(whatsapp=True)
    MessagingNumber.objects.get(phone_number=NUMBER_A).save()  # forget the cache

    ok = webhooks.sms(
        to=f"whatsapp:{NUMBER_B}", account=ACCOUNT_B, token=TOKEN_B, sid=sms_sid(21),
        sender=f"whatsapp:{SHOPPER}",
    )  # fmt: skip
    other = webhooks.sms(
        to=f"whatsapp:{NUMBER_B}", account=ACCOUNT_A, token=TOKEN_A, sid=sms_sid(22),
        sender=f"whatsapp:{SHOPPER}",
    )  # fmt: skip

    assert (ok.status_code, other.status_code) == (200, 403)
    assert Event.objects.get(kind="message").channel == "whatsapp"


def test_a_call_to_a_number_we_do_not_own_is_refused(shop, webhooks):
    response = webhooks.call(to=UNKNOWN, account=ACCOUNT_A, token=TOKEN_A, sid=call_sid(20))

    assert response.status_code == 403 and not Event.objects.exists()
