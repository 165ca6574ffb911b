"""Inbound email: anymail's signed inbound webhooks (Postmark, Mailgun) into the journal.

`parse_inbound_email` reads anymail's normalised message into an `InboundEmail`, raising
`BadMail` (a 400 with the reason) before anything is written; `record_inbound_email`
files it in the sender's conversation (threads.py says which) as one event:

- a `message` from a person: its body is the latest reply only (quoted history and
  signature left out, content.py), the sanitised HTML beside it, opening a case;
- an `auto_reply` from a machine (RFC 3834 Auto-Submitted, Precedence, List-Id, a
  bounce, the provider's spam flag): recorded, never opening or reopening a case and
  never counted as a contact (insights read `message` events only). One from an address
  we do not know is kept only when it answers one of our mails (a bounce, an out of
  office), in that mail's conversation; else it is dropped;
- a sender the provider's SPF/DKIM/DMARC checks failed is recorded with
  `sender_trust: fail` and never joins anyone on the headers alone.

The original MIME is kept on a `Mail` row beside the event, written in the same
statement; the attachments (within EMAIL_ATTACHMENT_MAX_BYTES and EMAIL_ATTACHMENT_TYPES;
others are named in the event and dropped) go to Django's storage. The source id is the
Message-ID, so the provider's retries, and the same mail through a second provider, write
one event.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from email.generator import BytesGenerator

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from conversations import consent, consent_review, journal, revocation
from conversations.identities import InvalidIdentity, link_identity, normalize_email
from conversations.models import Customer, Event, Identity

from . import content, threads
from .gate import BadMail, anymail_webhook
from .mailgun import ParsedFields, boundary
from .models import Mail, MailAttachment

logger = logging.getLogger(__name__)

MAX_BODY_CHARS = 20_000  # the reply as the timeline shows it; the whole mail stays in the MIME
MAX_HTML_CHARS = 100_000
MAX_SUBJECT_CHARS = 255
MAX_SOURCE_ID = 128  # Event.source_id


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundEmail:
    provider: str
    message_id: str  # without <>
    sender: str  # normalised
    sender_name: str
    subject: str
    body: str  # the latest reply, plain text
    html: str = ""  # sanitised
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    automatic: str = ""  # why a machine sent it, "" for a person
    trust: str = content.TRUST_UNKNOWN
    verdicts: dict = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # attachments refused, and why
    original: bytes = b""

    @property
    def source_id(self) -> str:
        if len(self.message_id) <= MAX_SOURCE_ID:
            return self.message_id
        return "sha256:" + hashlib.sha256(self.message_id.encode()).hexdigest()


def parse_inbound_email(anymail_event, provider: str) -> InboundEmail:
    """Read anymail's inbound event; raise BadMail saying what is wrong."""
    message = anymail_event.message
    if message is None:
        raise BadMail("The event carries no message.")
    senders = message.get_address_header("From")
    if len(senders) != 1 or not senders[0].addr_spec:
        raise BadMail("The message needs exactly one From address.")
    try:
        sender = normalize_email(senders[0].addr_spec)
    except InvalidIdentity:
        raise BadMail("The From address is not a valid email address.") from None
    headers = content.RawHeaders(message)
    message_ids = threads.ids_in(headers.get("Message-ID"))
    message_id = message_ids[0] if message_ids else ""
    if not message_id:
        if not anymail_event.event_id:
            raise BadMail("The message has no Message-ID and the provider gave no id.")
        message_id = f"{provider}.{anymail_event.event_id}@no-message-id.invalid"[:250]
    text = message.text or ""
    html = message.html or ""
    # Postmark and Mailgun strip quoted text themselves (StrippedTextReply, stripped-text);
    # ours runs the same on any provider, so both agree.
    body = content.latest_reply(text or content.html_text(html))
    attachments, dropped = _attachments(message)
    subject = headers.text("Subject").strip()
    if not (body or attachments or subject):
        raise BadMail("The message has no text, no attachment and no subject.")
    trust, verdicts = content.sender_trust(headers)
    flags = ("spam (provider's flag)",) if getattr(message, "spam_detected", False) else ()
    return InboundEmail(
        provider=provider,
        message_id=message_id,
        sender=sender,
        sender_name=(senders[0].display_name or "")[:200],
        subject=subject[:MAX_SUBJECT_CHARS],
        body=body[:MAX_BODY_CHARS],
        html=content.safe_html(html)[:MAX_HTML_CHARS] if html else "",
        in_reply_to=threads.ids_in(headers.get("In-Reply-To"))[:1],
        references=threads.ids_in(headers.get("References"))[-threads.MAX_REFERENCES :],
        automatic=content.automatic(
            headers, sender, content_type=message.get_content_type(), provider_flags=flags
        ),
        trust=trust,
        verdicts=verdicts,
        attachments=attachments,
        dropped=dropped,
        original=_original(anymail_event),
    )


class _Generator(BytesGenerator):
    """`Message.as_bytes`, with a boundary that needs no check. The standard one draws a
    random boundary and compiles a regex of it to make sure the text does not contain it:
    a new regex for every multipart of every mail, which also pushes the regexes compiled
    once for all (the reply parser's) out of `re`'s cache. 122 random bits of a uuid4
    cannot be in the text by chance."""

    @classmethod
    def _make_boundary(cls, text=None):
        return boundary()


def mime_bytes(message) -> bytes:
    """The message as MIME bytes, as `message.as_bytes()` writes it."""
    out = io.BytesIO()
    _Generator(out, mangle_from_=False, policy=message.policy).flatten(message)
    return out.getvalue()


def _original(anymail_event) -> bytes:
    """The MIME as the provider received it, when it posted it (Mailgun's raw-MIME
    `body-mime`, Postmark's `RawEmail`): kept as it came, nothing written again. Else the
    message anymail built from the provider's parsed fields, written out."""
    payload = anymail_event.esp_event  # Postmark's JSON; Mailgun's request
    if isinstance(payload, dict):
        raw = payload.get("RawEmail")
    else:
        raw = getattr(payload, "POST", {}).get("body-mime")
    if isinstance(raw, str) and raw:
        return raw.encode("utf-8", "surrogateescape")
    if isinstance(anymail_event.message, ParsedFields):
        return anymail_event.message.mime()  # Mailgun's fields, written once (mailgun.py)
    return mime_bytes(anymail_event.message)


def _attachments(message) -> tuple[list[Attachment], list[str]]:
    kept: list[Attachment] = []
    dropped: list[str] = []
    # attachments, and inline parts with a file name (a photo pasted into the mail)
    parts = [p for p in message.walk() if p.is_attachment() or (p.is_inline() and p.get_filename())]
    for part in parts:
        name = (part.get_filename() or "attachment")[:200]
        content_type = part.get_content_type()[:100]
        data = part.get_content_bytes() or b""
        if content_type not in settings.EMAIL_ATTACHMENT_TYPES:
            dropped.append(f"{name}: {content_type} is not an accepted type")
        elif len(data) > settings.EMAIL_ATTACHMENT_MAX_BYTES:
            dropped.append(f"{name}: larger than {settings.EMAIL_ATTACHMENT_MAX_BYTES} bytes")
        elif len(kept) >= settings.EMAIL_MAX_ATTACHMENTS:
            dropped.append(f"{name}: more than {settings.EMAIL_MAX_ATTACHMENTS} attachments")
        else:
            kept.append(Attachment(name, content_type, data))
    return kept, dropped


def record_inbound_email(mail: InboundEmail) -> Event | None:
    """File one inbound email in the sender's conversation; return its event, or None
    when it is a machine's mail about nobody we know (dropped).

    One lookup (threads.known), then one transaction: the journal's append (one
    statement for a known sender with an open case, or a new sender's first contact) and
    the Mail row with its files."""
    known = threads.known(
        sender=mail.sender,
        source_id=mail.source_id,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
    )
    if known.recorded_id is not None:
        # A retry, or the same mail through another provider: already filed, Mail and all.
        return Event.objects.get(pk=known.recorded_id)
    answered = known.answered
    # Only an unknown sender's mail is filed by its headers, or dropped when a machine's;
    # a sender we know is always in their own conversation.
    unknown_sender = known.customer_id is None
    customer = None
    if unknown_sender and answered is not None:
        owner = Customer.objects.get(pk=answered.customer_id)
        if mail.automatic:
            customer = owner  # a bounce or an out of office about our mail: noted there
        elif mail.trust == content.TRUST_PASS and threads.same_mailbox(
            answered.address, mail.sender
        ):
            customer = link_identity(owner, Identity.Kind.EMAIL, mail.sender)
    if customer is None and unknown_sender and mail.automatic:
        logger.info("email: dropped an automatic mail (%s) from an unknown sender", mail.automatic)
        return None
    data: dict = {
        "subject": mail.subject,
        "provider": mail.provider,
        "sender_trust": mail.trust,
    }
    if mail.verdicts:
        data["verdicts"] = mail.verdicts
    if mail.html:
        data["html"] = mail.html
    if mail.automatic:
        data["automatic"] = mail.automatic
    if answered is not None:
        data["answers"] = answered.event_id
    if mail.dropped:
        data["attachments_dropped"] = mail.dropped
    try:
        return _file(mail, data, customer=customer, unknown_sender=unknown_sender)
    except IntegrityError:
        # The same mail delivered twice at once: the other delivery filed it all (its
        # event and Mail row commit together), and all of this one was rolled back.
        existing = Event.objects.filter(
            channel=Event.Channel.EMAIL, source_id=mail.source_id, mail__isnull=False
        ).first()
        if existing is not None:
            return existing
        if not Mail.objects.filter(message_id=mail.message_id).exists():
            raise
        # The Message-ID is already another mail's: one of ours echoed back by a loop, or
        # a sender reusing ids. Filed under an id of its own, the claimed one noted, so
        # nothing is lost and replies to the first mail still thread to it.
        data["claimed_message_id"] = mail.message_id
        own_id = f"clash.{uuid.uuid4().hex}@{settings.EMAIL_MESSAGE_ID_DOMAIN}"
        return _file(
            mail, data, customer=customer, unknown_sender=unknown_sender, message_id=own_id
        )


def _file(
    mail: InboundEmail,
    data: dict,
    *,
    customer: Customer | None,
    unknown_sender: bool,
    message_id: str = "",
) -> Event:
    """The event and its Mail row (the MIME in it, the attachments in storage), together.

    The Mail row, the original MIME in it, is the event's detail, written by the
    journal's append in the same statement. What must commit with them, when there is
    any (a new customer's name, a stop in words, the attachments), shares their
    transaction; a known sender's plain reply is that one statement, its own
    transaction."""
    first_contact = customer is None and unknown_sender
    said = revocation.classify(mail.body[:2000]) if not mail.automatic else None
    stored = Mail(
        direction=Mail.Direction.IN,
        message_id=message_id or mail.message_id,
        address=mail.sender,
        subject=mail.subject,
        in_reply_to=mail.in_reply_to[0] if mail.in_reply_to else "",
        references=mail.references,
        original=mail.original,
    )
    together = first_contact or said or mail.attachments
    with transaction.atomic() if together else nullcontext():
        event = journal.record(
            customer=customer,
            identity=None if customer else (Identity.Kind.EMAIL, mail.sender),
            unknown_sender=first_contact,  # first contact: 1 statement
            channel=Event.Channel.EMAIL,
            kind="auto_reply" if mail.automatic else "message",
            direction=Event.Direction.IN,
            body=mail.body,
            data=data,
            source_id=mail.source_id,
            detail=stored,
        )
        if stored.pk is None:
            # A repeat the lookup missed (its event recorded without a Mail row) gets its
            # row here; one filed concurrently makes this INSERT fail on the unique event.
            stored.event = event
            stored.save(force_insert=True)
        # A known sender's conversation without events yet (a customer imported with
        # their address) is named after that statement committed: a name, nothing lost.
        _name_new_customer(event, mail)
        if said:
            _stop_in_words(event, mail, said)
        for attachment in mail.attachments:
            MailAttachment.objects.create(
                mail=stored,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.data),
                file=ContentFile(attachment.data, name=uuid.uuid4().hex),
            )
    return event


def _stop_in_words(event: Event, mail: InboundEmail, said: revocation.Revocation) -> None:
    """A stop written in the mail ("please stop emailing me"): the sending address opts
    out; a possible one ("not interested") is flagged for an agent (docs/compliance.md).
    Only the latest reply is read (`said`): a quoted newsletter says nothing of the
    customer's."""
    identity = Identity.objects.filter(kind=Identity.Kind.EMAIL, value=mail.sender).first()
    if identity is None:  # an auto-reply's sender, filed under the mail it answers
        return
    if said.kind == revocation.DEFINITIVE:
        consent.opt_out(
            identity,
            source="email:revocation",
            channel=Event.Channel.EMAIL,
            body=f"Asked us to stop: {said.words}"[:500],
            proof=consent.Proof(text=mail.body[:2000]),
        )
    else:
        consent_review.flag_revocation(
            identity, words=said.words, source="email:possible stop",
            channel=Event.Channel.EMAIL, message=event,
        )  # fmt: skip


def _name_new_customer(event: Event, mail: InboundEmail) -> None:
    """A first mail names a customer who has no name yet (the From's display name)."""
    if event.seq == 1 and mail.sender_name and not mail.automatic:
        Customer.objects.filter(pk=event.conversation.customer_id, display_name="").update(
            display_name=mail.sender_name
        )


receive_postmark = anymail_webhook(
    "anymail.webhooks.postmark.PostmarkInboundWebhookView",
    provider="postmark",
    parse=parse_inbound_email,
    record=record_inbound_email,
)
receive_mailgun = anymail_webhook(
    "channels_adapters.email.mailgun.MailgunInboundWebhookView",  # anymail's, faster
    provider="mailgun",
    parse=parse_inbound_email,
    record=record_inbound_email,
)
