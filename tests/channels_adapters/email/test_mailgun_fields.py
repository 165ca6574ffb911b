"""Mailgun's fully parsed fields read without the email package's message
(channels_adapters/email/mailgun.py): the same mail, read the same, and the MIME the email
package writes for anymail's message; and the reply read with the parser's patterns built
once (content.py), as the parser reads it."""

import json
import re
from types import SimpleNamespace

import pytest
from anymail.inbound import AnymailInboundMessage
from django.core.files.uploadedfile import SimpleUploadedFile
from mailparser_reply import EmailReplyParser

from channels_adapters.email.content import REPLY_LANGUAGES, latest_reply
from channels_adapters.email.inbound import mime_bytes, parse_inbound_email
from channels_adapters.email.mailgun import ParsedFields
from channels_adapters.email.models import Mail, MailAttachment
from conversations.models import Event
from tests.fakes.email_payloads import mailgun_inbound, post_mailgun_inbound

BOUNDARY = re.compile(rb"={15}[0-9a-f]{32}==")


def form(**fields) -> dict:
    """The fixture as Django hands it to the view: message-headers as posted, JSON."""
    posted = mailgun_inbound(message_id="CAF1@outlook.com", **fields)
    return {k: json.dumps(v) if isinstance(v, list) else v for k, v in posted.items()}


def anymails(fields: dict) -> AnymailInboundMessage:
    """The message anymail builds from the fields, the headers kept as posted."""
    headers = "".join(f"{n}: {v}\n" for n, v in json.loads(fields["message-headers"]))
    return AnymailInboundMessage.construct(
        raw_headers=headers, text=fields.get("body-plain"), html=fields.get("body-html")
    )


def event(message, fields: dict) -> SimpleNamespace:
    return SimpleNamespace(
        message=message, event_id="token", esp_event=SimpleNamespace(POST=fields)
    )


@pytest.mark.parametrize("left_out", [None, "body-html", "body-plain"])
def test_the_mime_is_the_one_the_email_package_writes_for_anymails_message(left_out):
    fields = {k: v for k, v in form().items() if k != left_out}

    ours, theirs = ParsedFields(fields).mime(), mime_bytes(anymails(fields))

    assert BOUNDARY.sub(b"B", ours) == BOUNDARY.sub(b"B", theirs)
    assert len(set(BOUNDARY.findall(ours))) == 3  # one of its own each


def test_a_header_in_utf8_is_written_as_the_email_package_encodes_it():
    subject = "Réponse — commande 48213"
    fields = form(headers=[("X-Note", subject)])

    written = ParsedFields(fields).mime()

    theirs = AnymailInboundMessage()
    theirs["X-Note"] = subject  # as construct stores a header given as a pair
    line = mime_bytes(theirs).split(b"\n\n")[0]
    assert line.startswith(b"X-Note: =?utf-8?") and line + b"\n" in written
    assert AnymailInboundMessage.parse_raw_mime_bytes(written)["X-Note"] == subject


def test_the_fields_are_read_as_anymails_message_reads_them():
    fields = form(headers=[("Auto-Submitted", "no")])

    ours = parse_inbound_email(event(ParsedFields(fields), fields), "mailgun")
    theirs = parse_inbound_email(event(anymails(fields), fields), "mailgun")

    assert ours.__dict__ | {"original": b""} == theirs.__dict__ | {"original": b""}
    assert ours.body.startswith("Thanks, Friday is fine.") and "Sent:" not in ours.body
    assert ours.sender == "marcus.webb@outlook.com" and ours.subject == "RE: Your order 48213"


@pytest.mark.parametrize(
    "sender",
    [
        "Marcus Webb <marcus.webb@outlook.com>",
        "marcus.webb+shop@outlook.com",
        "J. O'Brien-Webb <j.obrien@outlook.com>",
        "  Marcus   Webb  <marcus.webb@outlook.com>",
        '"Webb, Marcus" <marcus.webb@outlook.com>',
        "=?utf-8?q?Marc=C3=BAs?= <marcus.webb@outlook.com>",
        "Marcús Webb <marcus.webb@outlook.com>",
        "marcus.webb@outlook.com (Marcus Webb)",
        "Marcus <marcus.webb@outlook.com>, Dana <dana.rivera@gmail.com>",
        "Marcus Webb <marcus.webb@>",
        "<marcus.webb@outlook.com>",
        "Marcus . Webb_3 <m.w-b+x@outlook-mail.co.uk>",
        ".@.",
        "Marcus Webb<marcus.webb@outlook.com>",
    ],
)
def test_the_from_is_read_as_anymails_message_reads_it(sender):
    fields = form(sender=sender)

    def read(message) -> object:
        try:
            return [(a.display_name, a.addr_spec) for a in message.get_address_header("From")]
        except Exception as exc:  # the same refusal, if any
            return type(exc)

    assert read(ParsedFields(fields)) == read(anymails(fields))


@pytest.mark.parametrize(
    "headers",
    [[("Subject", "a second subject")], [("X-Injected", "one\r\nBcc: someone@else.example")]],
    ids=["a second Subject", "a header over two lines"],
)
@pytest.mark.django_db
def test_headers_anymail_would_refuse_are_a_400_writing_nothing(headers):
    response = post_mailgun_inbound(mailgun_inbound(message_id="bad@outlook.com", headers=headers))

    assert response.status_code == 400, response.content
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_mail_with_an_attachment_is_read_from_anymails_message():
    fields = mailgun_inbound(message_id="with-file@outlook.com")
    fields["attachment-count"] = "1"
    fields["attachment-1"] = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 ...", "application/pdf")

    assert post_mailgun_inbound(fields).status_code == 200

    mail = Mail.objects.get(message_id="with-file@outlook.com")
    assert MailAttachment.objects.get(mail=mail).file.read() == b"%PDF-1.4 ..."
    assert b'filename="receipt.pdf"' in bytes(mail.original)


@pytest.mark.parametrize(
    "text",
    [
        "Yes please, Saturday morning works.\r\n\r\nDana\r\n\r\nOn Mon, Dec 7, 2026 at 8:55 AM "
        "Shop <help@shop.example> wrote:\r\n> Hi Dana, we can deliver on Saturday.\r\n",
        "Thanks, Friday is fine.\r\n\r\nBest regards,\r\nMarcus\r\n\r\n"
        "________________________________\r\nFrom: Shop <help@shop.example>\r\n"
        "Sent: Monday, December 7, 2026 4:55 PM\r\nTo: Marcus\r\nSubject: Your order\r\n\r\n"
        "Hi Marcus, your T900 can come on Friday.\r\n",
        "Sure.\n\nAm Mo., 7. Dez. 2026 um 08:55 Uhr schrieb Shop <help@shop.example>:\n> Hallo",
        "Merci !\n\nLe lun. 7 déc. 2026 à 08:55, Shop <help@shop.example> a écrit :\n> Bonjour",
        "Yes.\n\n-- \nDana Rivera\nSent from my iPhone",
        "Just one line, nothing quoted.",
    ],
)
def test_the_reply_is_the_one_mail_parser_reply_gives(text):
    """content.latest_reply builds the parser's patterns once, not per mail: the same reply
    as the library's own entry point."""
    theirs = EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply(text)
    assert latest_reply(text) == (theirs or text).strip()
