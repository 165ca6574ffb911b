"""Auto-replies, out of office, bounces and list traffic are recorded as such: no case
opened or reopened, no contact counted; a sender that fails SPF/DKIM/DMARC is recorded as
unverified and never joins a customer on the headers."""

import pytest

from conversations.cases import resolve_case
from conversations.models import Case, Customer, Event, Identity
from tests.fakes.email_payloads import (
    mailgun_inbound,
    post_mailgun_inbound,
    post_postmark,
    postmark_inbound,
)

from .helpers import DANA, answer, emailing_customer

pytestmark = pytest.mark.django_db
POSTMARK = "/hooks/email/postmark/inbound/"


def with_headers(payload: dict, *headers: tuple[str, str]) -> dict:
    payload["Headers"] = [*payload["Headers"], *({"Name": n, "Value": v} for n, v in headers)]
    return payload


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ((("Auto-Submitted", "auto-replied"),), "auto-submitted (auto-replied)"),
        ((("Precedence", "bulk"),), "precedence bulk"),
        ((("X-Autoreply", "yes"),), "auto-reply"),
        ((("List-Id", "<news.example.org>"),), "mailing list"),
    ],
)
def test_a_machine_mail_from_a_customer_reopens_nothing(headers, why, django_user_model):
    dana = emailing_customer(DANA)
    post_postmark(POSTMARK, postmark_inbound(message_id="q@mail.gmail.com"))
    case = Case.objects.get(conversation=dana.conversation)
    resolve_case(case, by=django_user_model.objects.create(username="agent"))
    payload = with_headers(postmark_inbound(message_id="auto@mail.gmail.com"), *headers)
    assert post_postmark(POSTMARK, payload).status_code == 200
    event = Event.objects.get(source_id="auto@mail.gmail.com")
    assert event.kind == "auto_reply" and event.data["automatic"] == why
    assert not Case.objects.exclude(status="resolved").exists()


def test_an_out_of_office_by_subject_is_an_auto_reply():
    emailing_customer(DANA)
    payload = postmark_inbound(message_id="ooo@x.y", Subject="Automatic reply: Your order 48213")
    post_postmark(POSTMARK, payload)
    assert Event.objects.get(source_id="ooo@x.y").kind == "auto_reply"
    assert not Case.objects.exists()


def test_a_bounce_of_our_mail_is_noted_in_her_conversation_not_as_a_new_customer():
    dana = emailing_customer(DANA)
    _, ours = answer(dana)
    payload = postmark_inbound(
        message_id="bounce@mx.example",
        in_reply_to=ours.message_id,
        sender="MAILER-DAEMON@mx.example",
        Subject="Undelivered Mail Returned to Sender",
    )
    assert post_postmark(POSTMARK, payload).status_code == 200
    event = Event.objects.get(source_id="bounce@mx.example")
    assert event.conversation_id == dana.conversation.pk and event.kind == "auto_reply"
    assert not Identity.objects.filter(value="mailer-daemon@mx.example").exists()
    assert Customer.objects.count() == 1


def test_a_machine_mail_about_nobody_we_know_is_dropped():
    payload = with_headers(
        postmark_inbound(message_id="n@x.y", sender="news@list.example"),
        ("List-Unsubscribe", "<mailto:leave@list.example>"),
    )
    assert post_postmark(POSTMARK, payload).status_code == 200
    assert not Event.objects.exists() and not Customer.objects.exists()


def test_the_providers_spam_flag_is_not_a_customer_message():
    form = mailgun_inbound(message_id="spam@x.y")
    form["message-headers"] = [
        ["X-Mailgun-Sflag", "Yes"] if name == "X-Mailgun-Sflag" else [name, value]
        for name, value in form["message-headers"]
    ]
    emailing_customer("marcus.webb@outlook.com")
    post_mailgun_inbound(form)
    event = Event.objects.get(source_id="spam@x.y")
    assert event.kind == "auto_reply" and event.data["automatic"] == "spam (provider's flag)"


def failing_authentication(form: dict) -> dict:
    form["message-headers"] = [
        [name, "Fail"]
        if name in ("X-Mailgun-Spf", "X-Mailgun-Dkim-Check-Result")
        else [name, value]
        for name, value in form["message-headers"]
    ]
    return form


def test_a_sender_failing_spf_and_dkim_is_recorded_as_unverified():
    emailing_customer("marcus.webb@outlook.com")
    post_mailgun_inbound(failing_authentication(mailgun_inbound(message_id="f@x.y")))
    event = Event.objects.get(source_id="f@x.y")
    assert event.kind == "message" and event.data["sender_trust"] == "fail"


def test_an_unverified_sender_never_joins_a_customer_on_the_headers():
    dana = emailing_customer("marcus.webb+shop@outlook.com")
    _, ours = answer(dana)
    form = failing_authentication(mailgun_inbound(message_id="g@x.y", in_reply_to=ours.message_id))
    post_mailgun_inbound(form)  # the same mailbox, but SPF and DKIM failed
    event = Event.objects.get(source_id="g@x.y")
    assert event.conversation_id != dana.conversation.pk
    assert Identity.objects.get(value="marcus.webb@outlook.com").customer_id != dana.pk


def test_dmarc_fail_in_authentication_results_is_a_failure():
    from email.message import Message

    from channels_adapters.email.content import sender_trust

    message = Message()
    message["Authentication-Results"] = (
        "mx.example; spf=pass smtp.mailfrom=example.org; dkim=pass header.d=example.org; "
        "dmarc=fail (p=reject) header.from=bank.example"
    )
    message["Authentication-Results"] = "forged.example; dmarc=pass"  # below ours: ignored
    assert sender_trust(message)[0] == "fail"


def test_a_stop_written_in_a_mail_opts_the_address_out():
    emailing_customer(DANA)
    payload = postmark_inbound(
        message_id="stop@mail.gmail.com", TextBody="Unsubscribe me please", HtmlBody=""
    )
    post_postmark(POSTMARK, payload)
    identity = Identity.objects.get(value=DANA)
    assert identity.opted_out_at is not None and identity.consent_source == "email:revocation"


def test_a_possible_stop_is_flagged_for_an_agent_and_the_quote_is_not_read():
    emailing_customer(DANA)
    payload = postmark_inbound(
        message_id="maybe@mail.gmail.com",
        TextBody="Not interested, thanks.\n\nOn Mon, Shop wrote:\n> Unsubscribe here\n",
        HtmlBody="",
    )
    post_postmark(POSTMARK, payload)
    assert Identity.objects.get(value=DANA).opted_out_at is None
    flag = Event.objects.get(kind="consent")
    assert flag.data["action"] == "revocation_flagged" and flag.data["words"] == "not interested"
