"""Tracking webhooks onto the outbox and consent: delivered, bounced, complained,
unsubscribed, in any order, repeated, or about mail we do not know."""

import pytest

from conversations.models import Event, Identity, Outbox
from tests.fakes.email_payloads import fixture, post_mailgun_tracking, post_postmark

from .helpers import DANA, answer, emailing_customer

pytestmark = pytest.mark.django_db
POSTMARK = "/hooks/email/postmark/tracking/"


def sent_mail():
    event, _ = answer(emailing_customer(DANA))
    item = Outbox.objects.get(event=event)
    return event, item


def postmark(name: str, item: Outbox, **override):
    values = {"provider_id": item.provider_id, "recipient": DANA, "outbox": item.pk} | override
    return post_postmark(POSTMARK, fixture("postmark", name, **values))


def mailgun(name: str, item: Outbox, **override):
    values = {
        "provider_id": f"<{item.provider_id}>",
        "recipient": DANA,
        "outbox": item.pk,
    } | override
    return post_mailgun_tracking(fixture("mailgun", name, **values))


def test_postmark_delivery_marks_it_delivered():
    event, item = sent_mail()
    assert postmark("delivery", item).status_code == 200
    event.refresh_from_db()
    assert event.delivery_status == "delivered"


def test_mailgun_delivered_with_bracketed_message_id_marks_it_delivered():
    event, item = sent_mail()
    assert mailgun("delivered", item).status_code == 200
    event.refresh_from_db()
    assert event.delivery_status == "delivered"


@pytest.mark.parametrize("send", [postmark, mailgun])
def test_a_hard_bounce_marks_it_undelivered_and_stops_mail_to_the_address(send):
    event, item = sent_mail()
    name = "bounce" if send is postmark else "failed_permanent"
    assert send(name, item).status_code == 200
    event.refresh_from_db()
    assert event.delivery_status == "undelivered"
    assert "bounced" in event.data["delivery_error_reason"]
    identity = Identity.objects.get(value=DANA)
    assert identity.opted_out_at is not None and identity.consent_source == "email:bounced"


@pytest.mark.parametrize(
    ("send", "name", "source"),
    [
        (postmark, "spam_complaint", "email:complained"),
        (mailgun, "complained", "email:complained"),
        (postmark, "subscription_change", "email:unsubscribed"),
        (mailgun, "unsubscribed", "email:unsubscribed"),
    ],
)
def test_a_complaint_or_unsubscribe_opts_the_address_out(send, name, source):
    _, item = sent_mail()
    assert send(name, item).status_code == 200
    identity = Identity.objects.get(value=DANA)
    assert identity.opted_out_at is not None and identity.consent_source == source


def test_a_late_delivery_after_a_read_keeps_it_read_and_repeats_are_harmless():
    event, item = sent_mail()
    from conversations.delivery import update_delivery_status

    update_delivery_status(event, "read")
    postmark("delivery", item)
    postmark("delivery", item)
    event.refresh_from_db()
    assert event.delivery_status == "read"


def test_a_status_found_by_the_outbox_metadata_when_the_provider_id_was_never_stored():
    _event, item = sent_mail()
    Outbox.objects.filter(pk=item.pk).update(provider_id="", status="reconcile")
    postmark("delivery", item, provider_id="abc-123")
    item.refresh_from_db()
    assert item.status == "sent" and item.provider_id == "abc-123"


def test_a_status_about_mail_we_do_not_know_is_200_and_ignored():
    response = post_postmark(
        POSTMARK, fixture("postmark", "delivery", provider_id="unknown", recipient=DANA, outbox="")
    )
    assert response.status_code == 200
    assert not Event.objects.exists()
