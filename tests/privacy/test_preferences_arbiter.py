"""The engagement arbiter honours the preference page: no cart nudge, order updates still."""

from datetime import UTC, datetime

import pytest
import time_machine

from channels_adapters.sms.backends import LocmemBackend
from conversations.links import token_for
from engagement.arbiter import propose
from engagement.models import Nudge
from tests.engagement.conftest import shopper

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # 10:00 in San Francisco
TOPICS = ["order_updates", "cart_reminders", "offers", "service_followups"]


@pytest.fixture(autouse=True)
def gates(settings):
    settings.ENGAGEMENT_GATES = ["privacy.gates.gate"]
    settings.ENGAGEMENT_FREQUENCY_CAPS = ["5/24h"]
    settings.ENGAGEMENT_SEND_WINDOW = "08:00-21:00"
    LocmemBackend.sent.clear()
    yield
    LocmemBackend.sent.clear()


def test_no_cart_reminder_after_turning_them_off_but_order_updates_still_arrive(client):
    with time_machine.travel(MORNING, tick=False):
        dana = shopper()
        ticked = {f"{t}:{c}": "on" for t in TOPICS for c in ["sms", "web"]}
        del ticked["cart_reminders:sms"]
        client.post(f"/c/{token_for(dana, 'preferences')}/preferences/", ticked)
        cart = propose(
            dana,
            rule="cart_abandoned",
            step=1,
            dedupe_key="cart:1:1",
            topic="cart_reminders",
            body="Still thinking?",
            channels=("sms",),
        )
        order = propose(
            dana,
            rule="post_purchase",
            step=1,
            dedupe_key="order:1:1",
            topic="order_updates",
            body="On its way",
            channels=("sms",),
        )
    assert cart.status == Nudge.Status.SUPPRESSED
    assert cart.reason == "sms: preference: cart reminders off by sms"
    assert order.status == Nudge.Status.SENT
    assert dana.conversation.events.filter(kind="consent", data__topic="cart_reminders").exists()
