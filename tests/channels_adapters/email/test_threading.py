"""Threading both ways: our mails thread in the customer's client, and replies (Gmail's,
Outlook's) land in the sender's own conversation, never another customer's."""

import pytest
from django.db import connection

from channels_adapters.email import threads
from channels_adapters.email.models import Mail
from channels_adapters.email.threads import message_id_for
from conversations.models import Customer, Event, Identity
from tests.fakes.email_payloads import (
    mailgun_inbound,
    post_mailgun_inbound,
    post_postmark,
    postmark_inbound,
)

from .helpers import DANA, MARCUS, answer, emailing_customer, last_sent

pytestmark = pytest.mark.django_db
POSTMARK = "/hooks/email/postmark/inbound/"


def test_our_answer_has_a_message_id_of_its_event_and_replies_to_her_last_mail():
    dana = emailing_customer(DANA)
    post_postmark(POSTMARK, postmark_inbound(message_id="first@mail.gmail.com"))
    event, mail = answer(dana)
    sent = last_sent()
    assert sent.extra_headers["Message-ID"] == f"<{message_id_for(event.pk)}>"
    assert mail.message_id == message_id_for(event.pk)
    assert sent.extra_headers["In-Reply-To"] == "<first@mail.gmail.com>"
    assert sent.extra_headers["References"].endswith("<first@mail.gmail.com>")
    assert sent.subject == "Re: Your order 48213"  # her subject kept
    assert sent.to == [DANA]


def test_a_gmail_reply_to_our_mail_lands_in_her_conversation():
    dana = emailing_customer(DANA)
    _, ours = answer(dana)
    payload = postmark_inbound(message_id="reply@mail.gmail.com", in_reply_to=ours.message_id)
    assert post_postmark(POSTMARK, payload).status_code == 200
    reply = Event.objects.get(channel="email", direction="in")
    assert reply.conversation_id == dana.conversation.pk
    assert reply.data["answers"] == ours.event_id
    assert Customer.objects.count() == 1


def test_an_outlook_reply_to_our_mail_lands_in_his_conversation():
    marcus = emailing_customer(MARCUS)
    _, ours = answer(marcus)
    form = mailgun_inbound(
        message_id="AM6P@outlook.com", in_reply_to=ours.message_id, references=ours.message_id
    )
    assert post_mailgun_inbound(form).status_code == 200
    reply = Event.objects.get(channel="email", direction="in")
    assert reply.conversation_id == marcus.conversation.pk


def test_two_customers_replying_to_one_bulk_email_land_in_their_own_conversations():
    """One newsletter (a Message-ID we sent to Dana) answered by Dana and by Marcus, to
    whom it was forwarded: each reply is filed under its sender."""
    dana = emailing_customer(DANA)
    marcus = emailing_customer(MARCUS)
    _, bulk = answer(dana, body="Our winter sale starts today")
    post_postmark(
        POSTMARK, postmark_inbound(message_id="d@mail.gmail.com", in_reply_to=bulk.message_id)
    )
    post_mailgun_inbound(mailgun_inbound(message_id="m@outlook.com", in_reply_to=bulk.message_id))
    by_sender = {m.address: m.event.conversation_id for m in Mail.objects.filter(direction="in")}
    assert by_sender == {DANA: dana.conversation.pk, MARCUS: marcus.conversation.pk}


def test_a_reply_from_an_unknown_person_to_someone_elses_mail_opens_their_own_conversation():
    dana = emailing_customer(DANA)
    _, ours = answer(dana)
    payload = postmark_inbound(
        message_id="x@mail.example", in_reply_to=ours.message_id, sender="friend@example.org"
    )
    post_postmark(POSTMARK, payload)
    reply = Event.objects.get(channel="email", direction="in")
    assert reply.conversation_id != dana.conversation.pk
    assert Identity.objects.get(value="friend@example.org").customer_id != dana.pk


def test_a_reply_from_her_own_mailbox_under_another_alias_joins_her_on_the_headers():
    dana = emailing_customer("dana.rivera+shop@gmail.com")
    _, ours = answer(dana)
    payload = postmark_inbound(message_id="y@mail.gmail.com", in_reply_to=ours.message_id)
    post_postmark(POSTMARK, payload)  # from dana.rivera@gmail.com, DKIM and SPF pass
    reply = Event.objects.get(channel="email", direction="in")
    assert reply.conversation_id == dana.conversation.pk
    assert Identity.objects.get(value=DANA).customer_id == dana.pk


def test_a_retry_sends_the_same_headers():
    from django.core import mail

    from channels_adapters.email.outbound import deliver
    from conversations.models import Outbox

    dana = emailing_customer(DANA)
    event, _first = answer(dana)
    deliver(Outbox.objects.get(event=event))
    assert (
        mail.outbox[-1].extra_headers["Message-ID"] == mail.outbox[-2].extra_headers["Message-ID"]
    )
    assert Mail.objects.filter(event=event).count() == 1


def test_an_answer_to_a_customer_who_never_emailed_has_the_default_subject(settings):
    settings.EMAIL_DEFAULT_SUBJECT = "Your conversation with the Shop"
    dana = emailing_customer(DANA)
    answer(dana)
    sent = last_sent()
    assert sent.subject == "Your conversation with the Shop"
    assert "In-Reply-To" not in sent.extra_headers


def test_a_mail_claiming_one_of_our_message_ids_is_filed_under_an_id_of_its_own():
    """A mail loop or a sender reusing ids: the Message-ID is already our outbound mail's.
    The mail is still filed (nothing lost, no 500), under an id of its own, the claimed
    one noted; our mail keeps its id, so replies to it still thread to it."""
    dana = emailing_customer(DANA)
    _, ours = answer(dana)

    response = post_postmark(POSTMARK, postmark_inbound(message_id=ours.message_id))

    assert response.status_code == 200
    inbound = Mail.objects.get(direction="in")
    assert inbound.message_id != ours.message_id
    assert inbound.event.data["claimed_message_id"] == ours.message_id
    assert inbound.event.conversation_id == dana.conversation.pk
    assert Mail.objects.get(pk=ours.pk).message_id == ours.message_id

    # the provider's retry of the same mail is the same mail: once
    assert post_postmark(POSTMARK, postmark_inbound(message_id=ours.message_id)).status_code == 200
    assert Mail.objects.filter(direction="in").count() == 1


def test_the_lookup_of_a_mail_probes_indexes_whatever_the_statistics_say():
    """The prepared lookup's generic plan, on tables the planner knows nothing of yet (as
    when a shop's first mails arrive): index probes only. As joins, it hashed the whole of
    `email_mail` twice for every mail, a cost that grew with the table."""
    dana = emailing_customer(DANA)
    for n in range(30):
        post_postmark(POSTMARK, postmark_inbound(message_id=f"m{n}@mail.gmail.com"))
    answer(dana)
    names = ["kind", "sender", "channel", "source_id", "ids"]
    sql = threads._KNOWN_SQL
    for number, name in enumerate(names, start=1):
        sql = sql.replace(f"%({name})s", f"${number}")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE lookup(text, text, text, text, text[]) AS {sql}")
        cursor.execute(
            "EXPLAIN EXECUTE lookup('email', %s, 'email', 'm3@mail.gmail.com', %s)",
            [DANA, ["m1@mail.gmail.com", "m2@mail.gmail.com"]],
        )
        plan = "\n".join(line for (line,) in cursor.fetchall())
        cursor.execute("DEALLOCATE lookup")
    assert "Seq Scan" not in plan and "Hash" not in plan, plan
