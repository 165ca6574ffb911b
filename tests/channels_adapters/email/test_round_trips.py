"""The inbound mail's round trips to the database (docs/email.md, "What happens to an
inbound mail"): one lookup, then the journal's append writing the Mail row in the same
statement; a repeat reads and writes nothing more; two deliveries of one mail at once
write it once."""

import threading
from email import message_from_bytes
from email.policy import default

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from channels_adapters.email.models import Mail
from conversations.models import Customer, Event
from tests.fakes.email_payloads import (
    mailgun_inbound,
    post_mailgun_inbound,
    post_postmark,
    postmark_inbound,
)

# The statements a test sees: inside the test's transaction, the outer transaction is a
# savepoint (SAVEPOINT / RELEASE here, BEGIN / COMMIT in production).
OUTER = 2


def sql_of(queries) -> list[str]:
    return [str(q["sql"]).split()[0] if q["sql"] else "(prepared)" for q in queries]


@pytest.mark.django_db
def test_a_known_senders_reply_costs_a_lookup_and_an_append_that_writes_the_mail_row():
    assert post_mailgun_inbound(mailgun_inbound(message_id="first@outlook.com")).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = post_mailgun_inbound(
            mailgun_inbound(message_id="second@outlook.com", in_reply_to="first@outlook.com")
        )

    assert response.status_code == 200
    # the lookup (prepared); the journal's append with the Mail row (prepared), in the
    # savepoint a caller's transaction gives it (the test's: in production, none)
    assert sql_of(queries) == ["(prepared)", "SAVEPOINT", "(prepared)", "RELEASE"], [
        q["sql"] for q in queries
    ]
    assert len(queries) - OUTER == 2
    event = Event.objects.get(source_id="second@outlook.com")
    assert event.data["answers"] == Event.objects.get(source_id="first@outlook.com").pk
    assert Mail.objects.filter(event=event).exists()


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_a_known_senders_reply_is_two_statements(settings):
    settings.THROUGHLINE_REACTIONS_MODE = "stream"  # as in production: none run in the request
    assert post_mailgun_inbound(mailgun_inbound(message_id="one@outlook.com")).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = post_mailgun_inbound(mailgun_inbound(message_id="two@outlook.com"))

    assert response.status_code == 200
    # as in production: the lookup, the append with the Mail row, each its own transaction
    assert sql_of(queries) == ["(prepared)", "(prepared)"], [q["sql"] for q in queries]
    assert bytes(Mail.objects.get(message_id="two@outlook.com").original).startswith(b"X-")


@pytest.mark.django_db
def test_a_new_senders_first_mail_is_the_first_contact_statement():
    with CaptureQueriesContext(connection) as queries:
        response = post_mailgun_inbound(mailgun_inbound(message_id="new@outlook.com"))

    assert response.status_code == 200
    # the lookup, the first contact with the Mail row (no failed append tried first), then
    # the name, in one transaction
    assert sql_of(queries) == [
        "(prepared)", "SAVEPOINT", "SAVEPOINT", "(prepared)", "RELEASE", "UPDATE", "RELEASE",
    ], [q["sql"] for q in queries]  # fmt: skip
    assert Customer.objects.get().display_name == "Marcus Webb"


@pytest.mark.django_db
def test_a_repeat_is_answered_from_the_lookup_writing_nothing():
    payload = mailgun_inbound(message_id="again@outlook.com")
    assert post_mailgun_inbound(payload).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = post_mailgun_inbound(payload)

    assert response.status_code == 200
    assert sql_of(queries) == ["(prepared)", "SELECT"], [q["sql"] for q in queries]
    assert Event.objects.filter(channel="email").count() == Mail.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_mail_at_once_write_it_once():
    assert post_mailgun_inbound(mailgun_inbound(message_id="warm@outlook.com")).status_code == 200
    payload = mailgun_inbound(message_id="twice@outlook.com")
    start = threading.Barrier(2)
    answers: list[int] = []

    def deliver():
        try:
            start.wait()
            answers.append(post_mailgun_inbound(payload).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [200, 200]
    event = Event.objects.get(source_id="twice@outlook.com")
    assert Mail.objects.filter(event=event).count() == 1
    assert Event.objects.filter(channel="email").count() == Mail.objects.count() == 2


RAW = (
    b"From: Dana Rivera <dana.rivera@gmail.com>\r\nTo: help@shop.example\r\n"
    b"Subject: Re: Your order 48213\r\nMessage-ID: <raw-1@mail.gmail.com>\r\n"
    b"Date: Mon, 7 Dec 2026 17:20:00 +0000\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    b"Yes please, Saturday morning works. \xe2\x80\x94 Dana\r\n"
)


@pytest.mark.django_db
def test_mailguns_raw_mime_is_stored_as_it_came():
    form = {
        "recipient": "help@shop.example", "sender": "dana.rivera@gmail.com",
        "body-mime": RAW.decode(), "timestamp": "{{timestamp}}", "token": "{{token}}",
        "signature": "{{signature}}",
    }  # fmt: skip
    assert post_mailgun_inbound(form).status_code == 200
    mail = Mail.objects.get(message_id="raw-1@mail.gmail.com")
    assert bytes(mail.original) == RAW
    assert mail.event.body == "Yes please, Saturday morning works. \u2014 Dana"


@pytest.mark.django_db
def test_postmarks_raw_email_is_stored_as_it_came():
    payload = postmark_inbound(message_id="raw-1@mail.gmail.com", RawEmail=RAW.decode())
    assert post_postmark("/hooks/email/postmark/inbound/", payload).status_code == 200
    assert bytes(Mail.objects.get(message_id="raw-1@mail.gmail.com").original) == RAW


@pytest.mark.django_db
def test_parsed_fields_are_written_out_as_mime():
    assert post_mailgun_inbound(mailgun_inbound(message_id="parsed@outlook.com")).status_code == 200
    original = bytes(Mail.objects.get().original)
    assert b"Message-Id: <parsed@outlook.com>" in original
    message = message_from_bytes(original, policy=default)
    assert message.get_content_type() == "multipart/mixed"
    boundaries = [part.get_boundary() for part in message.walk() if part.is_multipart()]
    assert len(set(boundaries)) == len(boundaries) >= 2  # one of its own each
