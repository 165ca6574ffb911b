import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections

from channels_adapters.sms.outbound import send_sms
from conversations import outbox
from conversations.models import Event, Identity, Outbox
from tests.channels_adapters.sms.conftest import SHOP_NUMBER, SHOPPER
from tests.conftest import subprocess_env
from tests.factories import CustomerFactory
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.django_db


def texting_customer():
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="phone", value=SHOPPER)
    return customer


def outbox_row(event: Event) -> Outbox:
    return Outbox.objects.get(event=event)


def test_it_sends_through_the_real_twilio_client_with_our_status_callback(fake_twilio):
    event = send_sms(customer=texting_customer(), body="Your\xa0bike is ready")

    assert outbox.deliver(outbox_row(event).pk) == "sent"

    [request] = fake_twilio.sent
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.authorization.startswith("Basic ")
    assert request.value("To") == SHOPPER
    assert request.value("From") == SHOP_NUMBER
    assert request.value("Body") == "Your bike is ready"  # a no-break space costs double
    item = outbox_row(event)
    assert request.value("StatusCallback") == (
        f"https://shop.example.com/hooks/twilio/sms/status/?outbox={item.pk}"
    )
    event.refresh_from_db()
    assert item.provider_id.startswith("SM") and event.source_id == item.provider_id
    assert event.delivery_status == "queued"


def test_a_messaging_service_is_used_when_configured(fake_twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    event = send_sms(customer=texting_customer(), body="hi")

    outbox.deliver(outbox_row(event).pk)

    [request] = fake_twilio.sent
    assert request.value("MessagingServiceSid") == "MG" + "1" * 32
    assert "From" not in request.form


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_rate_limit_or_server_error_is_retried_later_with_backoff(fake_twilio, status):
    fake_twilio.fail_next(status=status)
    event = send_sms(customer=texting_customer(), body="hi")
    before = outbox_row(event)

    assert outbox.deliver(before.pk) == "pending"

    item = outbox_row(event)
    assert item.attempts == 1
    assert item.next_attempt_at >= before.created_at + timedelta(seconds=30)
    assert "will retry" in item.last_error
    assert outbox.deliver(item.pk) == "sent"  # the retry
    assert len(fake_twilio.sent) == 2


def test_a_connection_that_never_opened_is_retried(fake_twilio, settings):
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # discard port: refused
    event = send_sms(customer=texting_customer(), body="hi")

    assert outbox.deliver(outbox_row(event).pk) == "pending"
    assert outbox_row(event).error_code == "connect"


def test_it_gives_up_after_the_last_attempt(fake_twilio):
    fake_twilio.fail_next(status=500, times=outbox.MAX_ATTEMPTS)
    event = send_sms(customer=texting_customer(), body="hi")

    statuses = [outbox.deliver(outbox_row(event).pk) for _ in range(outbox.MAX_ATTEMPTS)]

    assert statuses == ["pending"] * (outbox.MAX_ATTEMPTS - 1) + ["failed"]
    assert "Gave up after 5 attempts" in outbox_row(event).last_error


def test_error_21610_opts_the_number_out_and_is_never_retried(fake_twilio):
    fake_twilio.fail_next(status=400, code=21610)
    customer = texting_customer()
    event = send_sms(customer=customer, body="hi")

    assert outbox.deliver(outbox_row(event).pk) == "failed"
    assert outbox.deliver(outbox_row(event).pk) == "failed"

    assert len(fake_twilio.sent) == 1
    identity = Identity.objects.get(kind="phone", value=SHOPPER)
    assert identity.opted_out_at is not None
    assert identity.consent_source == "sms:provider 21610"
    assert Event.objects.filter(kind="consent", data__action="opt_out").count() == 1
    with pytest.raises(outbox.Refused):
        send_sms(customer=customer, body="again?")


def test_an_invalid_number_fails_with_a_reason_an_agent_can_read(fake_twilio):
    fake_twilio.fail_next(status=400, code=21211)
    event = send_sms(customer=texting_customer(), body="hi")

    assert outbox.deliver(outbox_row(event).pk) == "failed"

    event.refresh_from_db()
    assert event.delivery_status == "failed"
    assert event.data["delivery_error"] == "21211"
    assert event.data["delivery_error_reason"] == "This is not a valid phone number."


def test_a_timeout_after_the_request_left_goes_to_reconciliation_not_a_resend(fake_twilio):
    fake_twilio.hang_next()
    event = send_sms(customer=texting_customer(), body="hi")

    assert outbox.deliver(outbox_row(event).pk) == "reconcile"
    assert outbox.deliver(outbox_row(event).pk) == "reconcile"
    outbox.sweep()

    assert len(fake_twilio.sent) == 1
    event.refresh_from_db()
    assert event.delivery_status == "unconfirmed"
    assert "may or may not" in outbox_row(event).last_error


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_does_not_send_twice(fake_twilio):
    # given: a real process delivering, while "Twilio" holds the request
    fake_twilio.hang_next()
    event = send_sms(customer=texting_customer(), body="only once")
    item = outbox_row(event)
    env = subprocess_env(
        SMS_BACKEND="channels_adapters.sms.backends.TwilioBackend",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=SHOP_NUMBER,
        TWILIO_API_BASE_URL=fake_twilio.base_url,
        TWILIO_HTTP_TIMEOUT="30",
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            f"from conversations import outbox; outbox.deliver({item.pk})",
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )
    try:
        assert fake_twilio.received.wait(timeout=30), "the worker never called Twilio"

        # when: the worker is killed mid-call, and its task comes back (acks_late)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    fake_twilio.release()
    redelivered = outbox.deliver(item.pk)
    swept = outbox.sweep(stale_after=timedelta(0))

    # then: nothing is sent again; the row waits for reconciliation
    assert redelivered == "sending"
    assert swept["reconcile"] == 1 and swept["enqueued"] == 0
    assert len(fake_twilio.sent) == 1
    item.refresh_from_db()
    assert item.status == "reconcile"
    event.refresh_from_db()
    assert event.delivery_status == "unconfirmed"


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_delivers_through_the_outbox(fake_twilio):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    customer = texting_customer()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        event = send_sms(customer=customer, body="Delivered by a worker")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and outbox_row(event).status != "sent":
            time.sleep(0.1)
    connections.close_all()

    item = outbox_row(event)
    assert item.status == "sent"
    assert [r.value("Body") for r in fake_twilio.sent] == ["Delivered by a worker"]
    event.refresh_from_db()
    assert event.source_id == item.provider_id


def test_the_console_backend_prints_instead_of_sending(settings, capsys):
    from channels_adapters.sms.backends import ConsoleBackend, SmsMessage

    receipt = ConsoleBackend().send(SmsMessage(to=SHOPPER, body="hello", from_number=SHOP_NUMBER))

    assert receipt.provider_id.startswith("SM") and receipt.status == "sent"
    assert "hello" in capsys.readouterr().out
