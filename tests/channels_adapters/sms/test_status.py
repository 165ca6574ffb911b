import pytest

from channels_adapters.sms.outbound import send_sms
from conversations import outbox
from conversations.models import Customer, Event, Identity, Outbox
from tests.channels_adapters.sms.conftest import SHOPPER
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def sent_message(body="Your bike is ready") -> Event:
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="phone", value=SHOPPER)
    event = send_sms(customer=customer, body=body)
    assert outbox.deliver(event.outbox.pk) == "sent"
    event.refresh_from_db()
    return event


def test_it_updates_the_outbound_event_status(twilio, sent_sms):
    event = sent_message()

    response = twilio.status(event.source_id, "delivered")

    assert response.status_code == 204
    event.refresh_from_db()
    assert event.delivery_status == "delivered"


def test_delivered_then_a_late_sent_leaves_delivered(twilio, sent_sms):
    event = sent_message()

    twilio.status(event.source_id, "delivered")
    twilio.status(event.source_id, "sent")
    twilio.status(event.source_id, "queued")

    event.refresh_from_db()
    assert event.delivery_status == "delivered"


def test_a_final_failure_keeps_the_error_code_in_words(twilio, sent_sms):
    event = sent_message()

    twilio.status(event.source_id, "undelivered", ErrorCode="30006")

    event.refresh_from_db()
    assert event.delivery_status == "undelivered"
    assert event.data["delivery_error"] == "30006"
    assert "landline" in event.data["delivery_error_reason"]


def test_error_21610_in_a_callback_opts_the_number_out(twilio, sent_sms):
    event = sent_message()

    twilio.status(event.source_id, "failed", ErrorCode="21610")

    identity = Identity.objects.get(kind="phone", value=SHOPPER)
    assert identity.opted_out_at is not None
    assert identity.consent_source == "sms:provider 21610"


def test_a_callback_for_an_unknown_message_gets_204_and_changes_nothing(twilio):
    response = twilio.status("SM" + "f" * 32, "delivered")

    assert response.status_code == 204
    assert not Event.objects.exists()


def test_a_callback_settles_a_message_whose_worker_never_recorded_the_answer(twilio, sent_sms):
    # given: Twilio took the message but the worker died before recording its sid
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="phone", value=SHOPPER)
    event = send_sms(customer=customer, body="Your bike is ready")
    Outbox.objects.filter(pk=event.outbox.pk).update(status="reconcile")
    twilio_sid = "SM" + "b" * 32

    # when: its status callback arrives (our URL carries the outbox id)
    twilio.status(twilio_sid, "delivered", outbox_id=event.outbox.pk)

    # then
    item = Outbox.objects.get(pk=event.outbox.pk)
    assert (item.status, item.provider_id) == ("sent", twilio_sid)
    event.refresh_from_db()
    assert (event.delivery_status, event.source_id) == ("delivered", twilio_sid)


def test_a_callback_cannot_claim_another_messages_outbox_row(twilio, sent_sms):
    event = sent_message()

    twilio.status("SM" + "c" * 32, "failed", outbox_id=event.outbox.pk)

    event.refresh_from_db()
    assert event.delivery_status == "not sent: locmem backend"  # as the backend left it


def test_a_forged_status_callback_gets_403_and_changes_nothing(twilio, sent_sms):
    event = sent_message()

    response = twilio.post(
        "/hooks/twilio/sms/status/",
        {"MessageSid": event.source_id, "MessageStatus": "failed"},
        token="wrong-token",
    )

    assert response.status_code == 403
    event.refresh_from_db()
    assert event.delivery_status == "not sent: locmem backend"  # as the backend left it


def test_a_callback_without_sid_or_status_gets_400(twilio):
    assert twilio.post("/hooks/twilio/sms/status/", {"MessageStatus": "sent"}).status_code == 400
    assert (
        twilio.post("/hooks/twilio/sms/status/", {"MessageSid": "SM" + "a" * 32}).status_code == 400
    )


def test_inbound_statuses_are_ignored(twilio):
    twilio.sms("hello", sid="SM" + "d" * 32)

    response = twilio.status("SM" + "d" * 32, "received")

    assert response.status_code == 204
    assert Event.objects.get().delivery_status == ""


@pytest.mark.django_db(transaction=True)
def test_a_status_change_is_broadcast_to_the_conversation(twilio, sent_sms, broadcasts):
    event = sent_message()
    broadcasts.collect(0.3)  # the send's own broadcasts

    twilio.status(event.source_id, "delivered")

    statuses = [m for group, m in broadcasts.collect() if m["type"] == "event.status"]
    assert statuses == [
        {
            "type": "event.status",
            "event": {
                "id": event.pk,
                "conversation": event.conversation_id,
                "seq": event.seq,
                "delivery_status": "delivered",
                "error_code": "",
                "error_reason": "",
            },
        }
    ]
    assert Customer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
async def test_an_agent_watching_the_conversation_sees_the_status_live(twilio, sent_sms, agent):
    from asgiref.sync import sync_to_async

    from tests.console.test_agent_socket import connect, receive_until

    event = await sync_to_async(sent_message)()
    communicator, connected, _ = await connect(agent)
    assert connected
    await communicator.send_json_to(
        {"type": "subscribe", "conversation": event.conversation_id, "after_seq": 0}
    )
    await receive_until(communicator, "subscribed")

    await sync_to_async(twilio.status)(event.source_id, "delivered")
    update = await receive_until(communicator, "status")

    assert update["event"]["id"] == event.pk
    assert update["event"]["delivery_status"] == "delivered"
    await communicator.disconnect()
