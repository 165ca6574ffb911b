"""The arbiter reaches the widget through the reply-verb registry, not the adapter."""

import pytest

from conversations.models import Outbox
from engagement import arbiter
from tests.engagement.conftest import shopper

pytestmark = pytest.mark.django_db

SENT_BY_PROBE = []


def probe_web_verb(*, customer, author, body):
    """A web reply verb that records what it was asked and sends through the real one."""
    from channels_adapters.webchat.outbound import reply_on_web

    SENT_BY_PROBE.append(body)
    return reply_on_web(customer=customer, author=author, body=body)


def propose(customer):
    return arbiter.propose(
        customer,
        rule="cart_abandoned",
        step=1,
        dedupe_key="k1",
        topic="cart_reminders",
        body="Still thinking about the T900?",
    )


def test_the_web_nudge_goes_through_the_declared_web_verb(clock, settings):
    SENT_BY_PROBE.clear()
    settings.THROUGHLINE_REPLY_VERBS = {
        "sms": "conversations.outbox.send",
        "web": "tests.engagement.test_reply_verb.probe_web_verb",
    }

    nudge = propose(shopper(phone="", visitor=True))

    assert nudge.status == "sent" and nudge.channel == "web"
    assert SENT_BY_PROBE == ["Still thinking about the T900?"]


def test_without_a_web_verb_the_widget_is_not_a_channel(clock, settings):
    settings.THROUGHLINE_REPLY_VERBS = {"sms": "conversations.outbox.send"}

    nudge = propose(shopper(phone="", visitor=True))

    assert nudge.status == "suppressed"
    assert nudge.reason == "sms: no phone number; web: never by web"
    assert not Outbox.objects.exists()
