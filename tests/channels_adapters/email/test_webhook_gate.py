"""Every email webhook: a missing, forged or tampered signature is 403 and writes nothing;
a malformed payload is 400 with the reason; never a 500."""

import json

import pytest

from conversations.models import Customer, Event, Identity
from tests.fakes.email_payloads import (
    basic_auth,
    fixture,
    mailgun_inbound,
    mailgun_signature,
    post_mailgun_inbound,
    post_mailgun_tracking,
    post_postmark,
    postmark_inbound,
)

pytestmark = pytest.mark.django_db
POSTMARK_IN = "/hooks/email/postmark/inbound/"


def nothing_written() -> bool:
    return not (Customer.objects.exists() or Identity.objects.exists() or Event.objects.exists())


@pytest.mark.parametrize(
    "auth", [{}, basic_auth("anymail:wrong"), basic_auth("other:s3cret-for-tests")]
)
def test_postmark_without_the_right_basic_auth_is_403(auth):
    response = post_postmark(POSTMARK_IN, postmark_inbound(message_id="a@b.c"), auth=auth)
    assert response.status_code == 403
    assert nothing_written()


def test_mailgun_inbound_signed_with_another_key_is_403():
    response = post_mailgun_inbound(mailgun_inbound(message_id="a@b.c"), key="key-not-ours")
    assert response.status_code == 403
    assert nothing_written()


def test_mailgun_inbound_with_a_tampered_token_is_403():
    signature = mailgun_signature()
    signature["token"] = signature["token"][:-1] + ("0" if signature["token"][-1] != "0" else "1")
    response = post_mailgun_inbound(mailgun_inbound(message_id="a@b.c"), signature=signature)
    assert response.status_code == 403
    assert nothing_written()


def test_mailgun_inbound_without_a_signature_is_403():
    form = mailgun_inbound(message_id="a@b.c")
    for field in ("timestamp", "token", "signature"):
        form.pop(field)
    response = post_mailgun_inbound(form)
    assert response.status_code == 403
    assert nothing_written()


def test_mailgun_tracking_signed_with_another_key_is_403():
    payload = fixture("mailgun", "delivered", provider_id="x@y", recipient="a@b.c", outbox="1")
    assert post_mailgun_tracking(payload, key="key-not-ours").status_code == 403


def test_an_unconfigured_mailgun_is_403_not_500(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": settings.ANYMAIL["WEBHOOK_SECRET"]}
    response = post_mailgun_inbound(mailgun_inbound(message_id="a@b.c"))
    assert response.status_code == 403
    assert nothing_written()


def test_postmark_without_a_webhook_secret_is_shut_not_open(settings):
    """Basic auth is Postmark's only protection: with no secret set, nobody may post."""
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}
    response = post_postmark(POSTMARK_IN, postmark_inbound(message_id="a@b.c"), auth={})
    assert response.status_code == 403
    assert nothing_written()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"FromFull": None, "From": ""}, "exactly one From address"),
        ({"FromFull": {"Email": "not an address", "Name": ""}}, "not a valid email address"),
        ({"RecordType": "Delivery"}, "webhook"),
    ],
)
def test_a_malformed_postmark_mail_is_400_with_the_reason(change, reason):
    payload = postmark_inbound(message_id="a@b.c") | change
    response = post_postmark(POSTMARK_IN, payload)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert nothing_written()


def test_a_body_that_is_not_json_is_400():
    from django.test import Client

    response = Client().post(
        POSTMARK_IN, "{not json", content_type="application/json", headers=basic_auth()
    )
    assert response.status_code == 400
    assert "cannot be read" in response.content.decode()


def test_mailgun_headers_that_are_not_json_are_400():
    form = mailgun_inbound(message_id="a@b.c")
    form["message-headers"] = "[[broken"
    response = post_mailgun_inbound(form)
    assert response.status_code == 400
    assert nothing_written()


def test_get_is_405_and_head_is_200():
    from django.test import Client

    assert Client().get(POSTMARK_IN).status_code == 405
    assert Client().head(POSTMARK_IN).status_code == 200


def test_a_body_over_the_limit_is_413(settings):
    settings.EMAIL_WEBHOOK_MAX_BYTES = 100
    response = post_postmark(POSTMARK_IN, postmark_inbound(message_id="a@b.c"))
    assert response.status_code == 413
    assert nothing_written()


def test_a_tracking_event_that_names_no_message_is_400():
    payload = json.loads(
        json.dumps(fixture("postmark", "delivery", provider_id="", recipient="a@b.c", outbox=""))
    )
    response = post_postmark("/hooks/email/postmark/tracking/", payload)
    assert response.status_code == 400
    assert "names no message" in response.content.decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Subject": "Saturday\x00"}, "mail.subject"),
        ({"TextBody": "Saturday works.\x00"}, "mail.body"),
        (
            {"FromName": "Dana\x00", "FromFull": {"Email": "dana@example.com", "Name": "Dana\x00"}},
            "mail.sender_name",
        ),
    ],
)
def test_a_signed_mail_with_a_nul_is_400_naming_the_field(change, field):
    # PostgreSQL cannot store a NUL: the write failed with a 500 after the parse passed
    response = post_postmark(POSTMARK_IN, postmark_inbound(message_id="a@b.c") | change)

    assert response.status_code == 400, response.content
    assert f"{field} contains a NUL character" in response.content.decode()
    assert nothing_written()


def test_a_tracking_event_with_a_nul_in_its_message_id_is_400():
    payload = fixture("postmark", "delivery", provider_id="a\x00@b.c", recipient="a@b.c", outbox="")

    response = post_postmark("/hooks/email/postmark/tracking/", payload)

    assert response.status_code == 400, response.content
    assert "mail.provider_id contains a NUL character" in response.content.decode()
