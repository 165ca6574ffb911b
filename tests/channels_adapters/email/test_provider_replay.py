"""Every provider fixture, posted signed through its real URL, stores what it should;
a fixture with no replay here fails the suite."""

import pytest

from channels_adapters.email.models import Mail
from conversations.models import Event, Identity, Outbox
from tests.fakes.email_payloads import (
    fixture,
    fixture_names,
    mailgun_inbound,
    post_mailgun_inbound,
    post_mailgun_tracking,
    post_postmark,
    postmark_inbound,
)

from .helpers import DANA, answer, emailing_customer

pytestmark = pytest.mark.django_db


def sent() -> Outbox:
    event, _ = answer(emailing_customer(DANA))
    return Outbox.objects.get(event=event)


def tracking(provider: str, name: str):
    item = sent()
    brackets = "<{}>" if provider == "mailgun" else "{}"
    payload = fixture(
        provider, name, provider_id=brackets.format(item.provider_id), recipient=DANA,
        outbox=item.pk,
    )  # fmt: skip
    if provider == "mailgun":
        return post_mailgun_tracking(payload), item
    return post_postmark("/hooks/email/postmark/tracking/", payload), item


def status_of(item: Outbox) -> str:
    return Event.objects.get(pk=item.event_id).delivery_status


def opted_out() -> bool:
    return Identity.objects.get(value=DANA).opted_out_at is not None


def replay_postmark_inbound_gmail_reply():
    response = post_postmark("/hooks/email/postmark/inbound/", postmark_inbound(message_id="r@x"))
    assert response.status_code == 200
    assert Mail.objects.get(direction="in").address == DANA


def replay_mailgun_inbound_outlook_reply():
    assert post_mailgun_inbound(mailgun_inbound(message_id="r@x")).status_code == 200
    assert Mail.objects.get(direction="in").address == "marcus.webb@outlook.com"


def replay_tracking(provider, name, status, stops):
    def replay():
        response, item = tracking(provider, name)
        assert response.status_code == 200
        assert status_of(item) == status and opted_out() is stops

    return replay


REPLAYS = {
    ("postmark", "inbound_gmail_reply"): replay_postmark_inbound_gmail_reply,
    ("postmark", "delivery"): replay_tracking("postmark", "delivery", "delivered", False),
    ("postmark", "bounce"): replay_tracking("postmark", "bounce", "undelivered", True),
    ("postmark", "spam_complaint"): replay_tracking(
        "postmark", "spam_complaint", "delivered", True
    ),
    ("postmark", "subscription_change"): replay_tracking(
        "postmark", "subscription_change", "delivered", True
    ),
    ("mailgun", "inbound_outlook_reply"): replay_mailgun_inbound_outlook_reply,
    ("mailgun", "delivered"): replay_tracking("mailgun", "delivered", "delivered", False),
    ("mailgun", "failed_permanent"): replay_tracking(
        "mailgun", "failed_permanent", "undelivered", True
    ),
    ("mailgun", "complained"): replay_tracking("mailgun", "complained", "delivered", True),
    ("mailgun", "unsubscribed"): replay_tracking("mailgun", "unsubscribed", "delivered", True),
}


def test_every_fixture_has_a_replay():
    fixtures = {(p, name) for p in ("postmark", "mailgun") for name in fixture_names(p)}
    assert fixtures == set(REPLAYS)


@pytest.mark.parametrize("key", sorted(REPLAYS), ids=lambda key: "/".join(key))
def test_replay(key):
    REPLAYS[key]()
