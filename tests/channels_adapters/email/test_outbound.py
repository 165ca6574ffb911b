"""Outbound email through the outbox: each class of provider refusal, and consent."""

import pytest
import requests
from anymail.exceptions import AnymailAPIError, AnymailRequestsAPIError
from anymail.message import AnymailRecipientStatus

from channels_adapters.email.backends import LocmemBackend
from channels_adapters.email.outbound import reply_by_email
from conversations import consent, outbox
from conversations.models import Identity, Outbox

from .helpers import DANA, answer, emailing_customer, last_sent

pytestmark = pytest.mark.django_db


def send_and_deliver(customer) -> Outbox:
    event = reply_by_email(customer=customer, body="Your bike is ready")
    outbox.deliver(Outbox.objects.get(event=event).pk)
    return Outbox.objects.get(event=event)


def requests_error(kind: type[Exception], status: int | None = None) -> AnymailRequestsAPIError:
    """What anymail raises: an AnymailRequestsAPIError caused by the requests error."""
    response = None
    if status is not None:
        response = requests.Response()
        response.status_code = status
    error = type("AnymailRequestsAPIError", (AnymailRequestsAPIError, kind), {})(
        "provider said no", response=response
    )
    error.__cause__ = kind("boom")
    return error


def test_it_sends_the_body_to_her_address_from_the_shop_and_records_the_provider_id():
    event, _ = answer(emailing_customer(DANA), body="Your bike is ready")
    sent = last_sent()
    assert sent.body == "Your bike is ready" and sent.from_email == "Shop <help@shop.example>"
    assert sent.anymail_test_params["metadata"] == {
        "outbox": str(Outbox.objects.get(event=event).pk)
    }
    item = Outbox.objects.get(event=event)
    event.refresh_from_db()
    assert item.provider_id.endswith("@locmem.test") and event.source_id == item.provider_id


def test_a_permanent_refusal_fails_the_row():
    LocmemBackend.answers = [AnymailRecipientStatus(message_id=None, status="rejected")]
    item = send_and_deliver(emailing_customer(DANA))
    assert item.status == "failed" and "refused this address" in item.last_error


def test_a_provider_error_answer_is_retried():
    LocmemBackend.answers = [requests_error(requests.HTTPError, 503)]
    item = send_and_deliver(emailing_customer(DANA))
    assert item.status == "pending" and item.next_attempt_at is not None


def test_a_4xx_is_permanent():
    LocmemBackend.answers = [requests_error(requests.HTTPError, 422)]
    assert send_and_deliver(emailing_customer(DANA)).status == "failed"


def test_a_timeout_is_never_resent_blindly():
    LocmemBackend.answers = [requests_error(requests.ReadTimeout)]
    item = send_and_deliver(emailing_customer(DANA))
    assert item.status == "reconcile"


def test_a_connection_error_is_retried():
    LocmemBackend.answers = [requests_error(requests.ConnectionError)]
    assert send_and_deliver(emailing_customer(DANA)).status == "pending"


def test_another_api_error_is_permanent():
    LocmemBackend.answers = [AnymailAPIError("bad sender domain")]
    assert send_and_deliver(emailing_customer(DANA)).status == "failed"


def test_an_opted_out_address_is_refused_before_anything_is_written():
    customer = emailing_customer(DANA)
    consent.opt_out(Identity.objects.get(value=DANA), source="email:List-Unsubscribe")
    with pytest.raises(outbox.Refused):
        reply_by_email(customer=customer, body="hello")
    assert not Outbox.objects.exists()


def test_the_console_reply_box_can_answer_by_email():
    from conversations.reply_verbs import reply_channels, reply_verb

    assert "email" in reply_channels()
    verb = reply_verb("email")
    event = verb(customer=emailing_customer(DANA), channel="email", body="hi", author=None)
    assert event.channel == "email" and event.data["subject"]


def test_the_reply_box_offers_email_only_while_the_address_may_be_written_to():
    from console import replies
    from conversations.context import build_context

    customer = emailing_customer(DANA)
    [option] = [c for c in replies.reply_channels(build_context(customer)) if c.channel == "email"]
    assert (option.label, option.allowed) == ("Email", True)

    consent.opt_out(Identity.objects.get(value=DANA), source="email:List-Unsubscribe")
    [option] = [c for c in replies.reply_channels(build_context(customer)) if c.channel == "email"]
    assert not option.allowed and "unsubscribed" in option.reason
