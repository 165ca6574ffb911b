"""Every send attempt, retries included, checks the recipient's quiet hours and the nudge's
expiry again (engagement/attempts.py through conversations/send_checks.py)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from conversations import outbox
from conversations.models import Outbox
from engagement import arbiter
from tests.engagement.conftest import decision_events, shopper
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

pytestmark = pytest.mark.django_db

NEW_YORK = "+12125550147"  # federal window: 8 a.m.-9 p.m. America/New_York
# Tuesday 10 March 2026, 20:40 EDT (UTC-4)
EVENING = datetime(2026, 3, 11, 0, 40, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # Wednesday 08:00 EDT


@pytest.fixture
def fake_twilio(settings):
    server = FakeTwilio().start()
    settings.SMS_BACKEND = "channels_adapters.sms.backends.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = "+12125550100"
    settings.TWILIO_API_BASE_URL = server.base_url
    settings.TWILIO_HTTP_TIMEOUT = 1.0
    yield server
    server.stop()


def row() -> Outbox:
    return Outbox.objects.select_related("event").get()


def three_failed_attempts(fake_twilio, traveller) -> None:
    """Attempts at 20:40, 20:45 and 20:55 fail with a 5xx: the next one is due at 21:05."""
    fake_twilio.fail_next(status=500, times=3)
    for minute in (40, 45, 55):
        traveller.move_to(EVENING + timedelta(minutes=minute - 40))
        assert outbox.deliver(row().pk) == "pending"
    assert row().next_attempt_at == EVENING + timedelta(minutes=25)  # 21:05 EDT


def test_a_retry_that_would_cross_the_window_end_waits_for_the_morning(fake_twilio):
    customer = shopper(phone=NEW_YORK)
    with time_machine.travel(EVENING, tick=False) as traveller:
        nudge = arbiter.propose(
            customer, rule="cart_abandoned", step=1, dedupe_key="k", topic="cart_reminders",
            body="Still thinking about the T900?", expires_after=timedelta(hours=48),
        )  # fmt: skip
        assert nudge.status == "sent"
        three_failed_attempts(fake_twilio, traveller)

        traveller.move_to(EVENING + timedelta(minutes=25))  # 21:05: the retry is due
        status = outbox.deliver(row().pk)

        held = row()
        assert status == "pending" and len(fake_twilio.requests) == 3  # nothing sent
        assert held.next_attempt_at == NEXT_MORNING
        assert held.attempts == 3  # waiting is not failing: the attempt is given back
        assert held.error_code == "held"
        waits = decision_events(customer)[-1]
        assert waits.data["status"] == "waiting" and waits.data["jurisdictions"] == ["US"]
        assert waits.body == (
            "Cart abandoned (step 1) waits: quiet hours at the send attempt: until Wed 08:00 "
            "(America/New_York; federal)"
        )

        traveller.move_to(NEXT_MORNING)
        assert outbox.deliver(row().pk) == "sent"
    assert len(fake_twilio.requests) == 4
    nudge.refresh_from_db()
    assert nudge.status == "sent"


def test_a_retry_that_has_expired_by_the_morning_is_dropped_and_recorded(fake_twilio):
    customer = shopper(phone=NEW_YORK)
    with time_machine.travel(EVENING, tick=False) as traveller:
        # due 40 hours ago, worth sending for 48: until 04:40 tomorrow, before the window
        arbiter.propose(
            customer, rule="cart_abandoned", step=1, dedupe_key="k", topic="cart_reminders",
            body="Still thinking about the T900?", due_at=EVENING - timedelta(hours=40),
            expires_after=timedelta(hours=48),
        )  # fmt: skip
        (nudge,) = arbiter.decide(customer)
        assert nudge.status == "sent"
        three_failed_attempts(fake_twilio, traveller)

        traveller.move_to(EVENING + timedelta(minutes=25))
        status = outbox.deliver(row().pk)

    dropped = row()
    assert status == "failed" and len(fake_twilio.requests) == 3
    assert dropped.error_code == "expired"
    assert dropped.last_error.startswith("expired: no longer worth sending after Wed 08:40 UTC")
    assert dropped.event.delivery_status == "canceled"
    nudge.refresh_from_db()
    assert nudge.status == "suppressed" and nudge.reason == dropped.last_error
    recorded = decision_events(customer)[-1]
    assert recorded.pk == nudge.event_id
    assert recorded.data["status"] == "suppressed" and recorded.data["reason"] == nudge.reason


def test_a_nudge_past_its_time_at_the_first_attempt_is_never_sent(fake_twilio):
    customer = shopper(phone=NEW_YORK)
    with time_machine.travel(EVENING - timedelta(hours=5), tick=False) as traveller:
        arbiter.propose(
            customer, rule="after_hours", step=1, dedupe_key="k", topic="service_followups",
            body="We open at 9.", data={"responsive": True}, expires_after=timedelta(hours=1),
        )  # fmt: skip
        traveller.move_to(EVENING - timedelta(hours=3))  # the worker was down two hours
        status = outbox.deliver(row().pk)

    assert status == "failed" and row().error_code == "expired"
    assert not fake_twilio.requests


def test_an_agents_reply_is_not_held_by_the_night(fake_twilio, agent):
    customer = shopper(phone=NEW_YORK)
    with time_machine.travel(EVENING + timedelta(hours=2), tick=False):  # 22:40 EDT
        outbox.send(customer=customer, channel="sms", body="Yes, 5 years.", author=agent)
        assert outbox.deliver(row().pk) == "sent"

    assert len(fake_twilio.requests) == 1
