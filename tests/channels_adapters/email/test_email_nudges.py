"""Proactive email goes through the engagement arbiter, as SMS does: consent, the
outbox, and RFC 8058 one-click unsubscribe on the mail."""

import pytest

from conversations import consent, outbox
from conversations.models import Identity, Outbox
from engagement import arbiter
from tests.engagement.conftest import clock  # noqa: F401 (a fixture)

from .helpers import DANA, emailing_customer, last_sent

pytestmark = pytest.mark.django_db


def propose(customer, **kwargs):
    return arbiter.propose(
        customer, rule="cart_abandoned", step=1, dedupe_key="k1", topic="order_updates",
        body="Your T900 ships tomorrow", channels=["email"], **kwargs,
    )  # fmt: skip


def test_a_rule_that_lists_email_is_sent_by_email_with_one_click_unsubscribe(clock):  # noqa: F811
    nudge = propose(emailing_customer(DANA), data={"subject": "Your order"})
    assert nudge.status == "sent" and nudge.channel == "email"
    assert nudge.outbox.to_address == DANA
    outbox.deliver(nudge.outbox.pk)
    sent = last_sent()
    assert sent.subject == "Your order" and sent.to == [DANA]
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_unsubscribed_address_is_never_mailed(clock):  # noqa: F811
    customer = emailing_customer(DANA)
    consent.opt_out(Identity.objects.get(value=DANA), source="email:List-Unsubscribe")
    nudge = propose(customer)
    assert (
        nudge.status == "suppressed" and nudge.reason == "email: opted out (email:List-Unsubscribe)"
    )
    assert not Outbox.objects.exists()
