"""Sending on WhatsApp: free text inside the 24-hour window, approved templates outside it,
through the real `twilio` client against a local fake Twilio (tests/fakes/twilio_server.py)."""

import json
from datetime import timedelta

import pytest

from channels_adapters.whatsapp.outbound import send_whatsapp
from channels_adapters.whatsapp.window import whatsapp_window
from console import replies
from conversations import outbox
from conversations.context import build_context
from conversations.models import Customer, Event, Identity, Outbox
from tests.factories import CustomerFactory

from .conftest import MORNING, SHOP_NUMBER, SHOPPER, write_in

pytestmark = pytest.mark.django_db

CART_TEMPLATE = "HX" + "c" * 32


def dana() -> Customer:
    return Customer.objects.get(merged_into=None)


def deliver(event: Event) -> str:
    return outbox.deliver(Outbox.objects.get(event=event).pk)


def test_inside_the_window_free_text_goes_with_whatsapp_addresses_and_our_callback(
    clock, fake_twilio
):
    write_in()
    clock.at(timedelta(hours=23, minutes=59))

    event = send_whatsapp(customer=dana(), body="It is, in blue and red.")

    assert deliver(event) == "sent"
    [request] = fake_twilio.sent
    assert request.value("To") == f"whatsapp:{SHOPPER}"
    assert request.value("From") == f"whatsapp:{SHOP_NUMBER}"
    assert request.value("Body") == "It is, in blue and red."
    assert "ContentSid" not in request.form
    item = Outbox.objects.get(event=event)
    assert request.value("StatusCallback") == (
        f"https://shop.example.com/hooks/twilio/whatsapp/status/?outbox={item.pk}"
    )
    assert event.data["whatsapp"] == {
        "mode": "session",
        "open_until": (MORNING + timedelta(hours=24)).isoformat(),
    }


def test_outside_the_window_free_text_is_refused_with_the_reason_and_nothing_written(clock):
    write_in()
    clock.at(timedelta(hours=24))

    with pytest.raises(outbox.Refused, match="Outside WhatsApp's 24-hour window"):
        send_whatsapp(customer=dana(), body="Still there?")

    assert not Outbox.objects.exists()
    assert not Event.objects.filter(direction="out").exists()


def test_outside_the_window_the_topics_template_goes_with_its_variables(
    clock, fake_twilio, settings
):
    settings.THROUGHLINE_WHATSAPP_TEMPLATES = {"cart_reminders": CART_TEMPLATE}
    write_in()
    clock.at(timedelta(days=3))

    event = send_whatsapp(
        customer=dana(),
        body="Your T900 is still in your cart",
        topic="cart_reminders",
        variables={1: "Dana", "2": "T900"},
    )

    assert deliver(event) == "sent"
    [request] = fake_twilio.sent
    assert request.value("ContentSid") == CART_TEMPLATE
    assert json.loads(request.value("ContentVariables")) == {"1": "Dana", "2": "T900"}
    assert "Body" not in request.form
    assert request.value("To") == f"whatsapp:{SHOPPER}"
    assert event.body == f"WhatsApp template “cart_reminders” ({CART_TEMPLATE})"
    assert event.data["intended_body"] == "Your T900 is still in your cart"
    assert event.data["whatsapp"]["mode"] == "template"


def test_inside_the_window_a_topic_with_a_template_still_goes_as_free_text(
    clock, fake_twilio, settings
):
    settings.THROUGHLINE_WHATSAPP_TEMPLATES = {"cart_reminders": CART_TEMPLATE}
    write_in()

    event = send_whatsapp(customer=dana(), body="Still want it?", topic="cart_reminders")

    deliver(event)
    assert fake_twilio.sent[0].value("Body") == "Still want it?"


def test_a_customer_who_never_wrote_on_whatsapp_gets_only_templates(settings):
    settings.THROUGHLINE_WHATSAPP_TEMPLATES = {"offers": CART_TEMPLATE}
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="whatsapp", value=SHOPPER)

    with pytest.raises(outbox.Refused, match="never opened"):
        send_whatsapp(customer=customer, body="hi")
    assert send_whatsapp(customer=customer, body="hi", topic="offers").data["whatsapp"]["mode"] == (
        "template"
    )


def test_opted_out_on_whatsapp_nothing_is_sent_even_inside_the_window():
    write_in(n=1)
    write_in("STOP", n=2)

    with pytest.raises(outbox.Refused, match="opted out of whatsapp"):
        send_whatsapp(customer=dana(), body="hi")


def test_a_messaging_service_is_used_when_configured(fake_twilio, settings):
    settings.WHATSAPP_MESSAGING_SERVICE_SID = "MG" + "2" * 32
    write_in()

    deliver(send_whatsapp(customer=dana(), body="hi"))

    [request] = fake_twilio.sent
    assert request.value("MessagingServiceSid") == "MG" + "2" * 32
    assert "From" not in request.form


def test_twilio_refusing_with_63016_fails_the_message_with_the_reason(fake_twilio):
    fake_twilio.fail_next(status=400, code=63016)
    write_in()
    event = send_whatsapp(customer=dana(), body="hi")

    assert deliver(event) == "failed"
    assert deliver(event) == "failed"  # never retried

    assert len(fake_twilio.sent) == 1
    event.refresh_from_db()
    assert event.delivery_status == "failed"
    assert "24-hour window" in event.data["delivery_error_reason"]


@pytest.mark.parametrize("status", [429, 503])
def test_a_rate_limit_or_server_error_is_retried(fake_twilio, status):
    fake_twilio.fail_next(status=status)
    write_in()
    event = send_whatsapp(customer=dana(), body="hi")

    assert deliver(event) == "pending"
    assert deliver(event) == "sent"
    assert len(fake_twilio.sent) == 2


def test_a_timeout_after_the_request_left_is_reconciled_not_resent(fake_twilio):
    fake_twilio.hang_next()
    write_in()
    event = send_whatsapp(customer=dana(), body="hi")

    assert deliver(event) == "reconcile"
    assert deliver(event) == "reconcile"

    assert len(fake_twilio.sent) == 1


def test_21610_opts_the_whatsapp_identity_out(fake_twilio):
    fake_twilio.fail_next(status=400, code=21610)
    write_in()

    assert deliver(send_whatsapp(customer=dana(), body="hi")) == "failed"

    assert Identity.objects.get(kind="whatsapp").opted_out_at is not None


def test_free_text_still_waiting_when_the_window_closes_is_not_sent(clock, sent):
    write_in()
    clock.at(timedelta(hours=23))
    event = send_whatsapp(customer=dana(), body="Your bike is ready")
    clock.at(timedelta(hours=25))  # the worker only gets to it now (a retry, quiet hours)

    assert deliver(event) == "failed"

    assert sent == []
    item = Outbox.objects.get(event=event)
    assert item.error_code == "expired" and "window closed" in item.last_error
    event.refresh_from_db()
    assert event.delivery_status == "canceled"


def test_a_template_waiting_past_the_window_is_still_sent(clock, sent, settings):
    settings.THROUGHLINE_WHATSAPP_TEMPLATES = {"offers": CART_TEMPLATE}
    write_in()
    clock.at(timedelta(hours=30))
    event = send_whatsapp(customer=dana(), body="20% off", topic="offers")
    clock.at(timedelta(hours=31))

    assert deliver(event) == "sent"
    assert [m.content_sid for m in sent] == [CART_TEMPLATE]


# ---------------------------------------------------------------------------- the console


def test_the_console_replies_on_whatsapp_inside_the_window(clock, sent):
    write_in()

    event = replies.reply(customer=dana(), channel="whatsapp", body="Yes, in blue.", author=None)

    assert event.channel == "whatsapp" and deliver(event) == "sent"
    assert [(m.to, m.body) for m in sent] == [(SHOPPER, "Yes, in blue.")]


def test_the_console_is_told_why_not_outside_the_window(clock):
    write_in()
    clock.at(timedelta(days=2))

    with pytest.raises(outbox.Refused, match="closed since"):
        replies.reply(customer=dana(), channel="whatsapp", body="Hello again", author=None)


def test_the_window_is_in_the_customer_context_open_then_closed(clock):
    write_in()

    opened = build_context(dana()).extra["whatsapp_window"]
    clock.at(timedelta(hours=24, seconds=1))
    closed = build_context(dana()).extra["whatsapp_window"]

    assert opened["open"] is True
    assert opened["open_until"] == (MORNING + timedelta(hours=24)).isoformat()
    assert closed["open"] is False and closed["label"].startswith("closed since")
    window = whatsapp_window(dana())
    assert window.open_until == MORNING + timedelta(hours=24) and not window.is_open()


def test_our_own_messages_do_not_reopen_the_window(clock, sent):
    write_in()
    clock.at(timedelta(hours=20))
    send_whatsapp(customer=dana(), body="Anything else?")

    assert whatsapp_window(dana()).open_until == MORNING + timedelta(hours=24)


def test_a_customer_without_whatsapp_has_no_window_in_the_context():
    customer = CustomerFactory()

    assert "whatsapp_window" not in build_context(customer).extra


def whatsapp_option() -> replies.ReplyChannel:
    [option] = [c for c in replies.reply_channels(build_context(dana())) if c.channel == "whatsapp"]
    return option


def test_the_reply_box_offers_whatsapp_with_its_window_then_says_why_not(clock):
    write_in()

    opened = whatsapp_option()
    clock.at(timedelta(hours=25))
    closed = whatsapp_option()

    assert opened.allowed and opened.label == "WhatsApp (open until Wed 11 Mar 17:00 UTC)"
    assert not closed.allowed
    assert closed.reason.startswith("WhatsApp's 24-hour window: closed since Wed 11 Mar 17:00")


def test_the_reply_box_does_not_offer_whatsapp_to_a_customer_who_said_stop(clock):
    write_in(n=1)
    write_in("STOP", n=2)

    assert not whatsapp_option().allowed
    assert "opted out of WhatsApp" in whatsapp_option().reason


def test_without_a_whatsapp_sender_the_message_fails_with_the_reason(fake_twilio, settings):
    settings.WHATSAPP_FROM_NUMBER = ""
    write_in()
    event = send_whatsapp(customer=dana(), body="hi")

    assert deliver(event) == "failed"

    assert fake_twilio.sent == []
    assert "No WhatsApp sender is configured" in Outbox.objects.get(event=event).last_error
