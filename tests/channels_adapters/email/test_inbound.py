"""Inbound mail through Postmark and Mailgun: the sender's conversation, the latest reply
only, safe HTML, the MIME and attachments kept, repeats once."""

import pytest

from channels_adapters.email.models import Mail, MailAttachment
from conversations.models import Case, Customer, Event, Identity
from tests.fakes.email_payloads import (
    mailgun_inbound,
    post_mailgun_inbound,
    post_postmark,
    postmark_inbound,
)

pytestmark = pytest.mark.django_db
POSTMARK = "/hooks/email/postmark/inbound/"


def test_a_gmail_reply_through_postmark_is_a_message_with_only_the_latest_reply():
    response = post_postmark(POSTMARK, postmark_inbound(message_id="CAF1@mail.gmail.com"))
    assert response.status_code == 200, response.content
    event = Event.objects.get(channel="email")
    assert event.kind == "message" and event.direction == "in"
    assert event.body.startswith("Yes please, Saturday morning works.")
    assert "wrote:" not in event.body and "Shall we book it" not in event.body
    assert event.source_id == "CAF1@mail.gmail.com"
    assert event.data["subject"] == "Re: Your order 48213"
    assert event.data["sender_trust"] == "pass"
    assert Identity.objects.get(kind="email").value == "dana.rivera@gmail.com"
    assert Customer.objects.get().display_name == "Dana Rivera"
    assert Case.objects.filter(conversation=event.conversation, status="open").exists()


def test_the_html_is_sanitised_never_raw():
    post_postmark(POSTMARK, postmark_inbound(message_id="CAF2@mail.gmail.com"))
    html = Event.objects.get(channel="email").data["html"]
    assert "Saturday morning" in html
    assert "<script" not in html and "onerror" not in html and "<img" not in html


def test_the_original_mime_and_the_attachment_are_stored():
    post_postmark(POSTMARK, postmark_inbound(message_id="CAF3@mail.gmail.com"))
    mail = Mail.objects.get()
    assert mail.direction == "in" and mail.address == "dana.rivera@gmail.com"
    original = bytes(mail.original)
    assert b"Message-ID: <CAF3@mail.gmail.com>" in original
    attachment = MailAttachment.objects.get(mail=mail)
    assert attachment.filename == "receipt.pdf" and attachment.content_type == "application/pdf"
    assert attachment.file.read().startswith(b"%PDF-1.4")


def test_an_attachment_of_a_refused_type_is_named_and_dropped(settings):
    settings.EMAIL_ATTACHMENT_TYPES = ["image/png"]
    post_postmark(POSTMARK, postmark_inbound(message_id="CAF4@mail.gmail.com"))
    event = Event.objects.get(channel="email")
    assert MailAttachment.objects.count() == 0
    assert event.data["attachments_dropped"] == [
        "receipt.pdf: application/pdf is not an accepted type"
    ]


def test_an_outlook_reply_through_mailgun_drops_the_quoted_block_and_signature():
    response = post_mailgun_inbound(mailgun_inbound(message_id="AM6P194@outlook.com"))
    assert response.status_code == 200, response.content
    event = Event.objects.get(channel="email")
    assert event.body.startswith("Thanks, Friday is fine.")
    assert "Sent: Monday" not in event.body and "does that suit you" not in event.body.lower()
    assert event.data["sender_trust"] == "pass"
    assert event.data["verdicts"] == {"spf": "pass", "dkim": "pass"}
    assert Identity.objects.get(kind="email").value == "marcus.webb@outlook.com"


def test_a_repeated_webhook_writes_one_event_and_answers_the_same():
    payload = postmark_inbound(message_id="CAF5@mail.gmail.com")
    first = post_postmark(POSTMARK, payload)
    second = post_postmark(POSTMARK, payload)
    assert first.status_code == second.status_code == 200
    assert Event.objects.filter(channel="email").count() == 1
    assert Mail.objects.count() == 1


def test_the_same_mail_through_both_providers_is_one_event():
    post_postmark(
        POSTMARK, postmark_inbound(message_id="same@mail.example", sender="dana.rivera@gmail.com")
    )
    post_mailgun_inbound(
        mailgun_inbound(message_id="same@mail.example", sender="dana.rivera@gmail.com")
    )
    assert Event.objects.filter(channel="email").count() == 1


def test_a_known_sender_lands_in_her_conversation():
    customer = Customer.objects.create(display_name="Dana")
    from conversations.identities import link_identity
    from conversations.models import Conversation

    Conversation.objects.create(customer=customer)
    link_identity(customer, "email", "Dana.Rivera@gmail.com")
    post_postmark(POSTMARK, postmark_inbound(message_id="CAF6@mail.gmail.com"))
    event = Event.objects.get(channel="email")
    assert event.conversation.customer_id == customer.pk
    assert Customer.objects.count() == 1
