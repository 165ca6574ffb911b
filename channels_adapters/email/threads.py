"""Threading both ways (docs/email.md, "Threading").

Out: every email we send has a Message-ID derived from its event (`message_id_for`), so
a retry sends the same one, and In-Reply-To / References naming the customer's last
mail, so their mail client files our answer under their message.

In: a reply names the messages it answers in In-Reply-To / References. `known` finds
the newest of ours (or theirs) it names (with the sender's customer and a repeat of the
mail, in the same round trip). It decides the conversation only for a sender
we do not know yet, and only when it is the same mailbox the named mail went to (a
"+tag" or, at Gmail, dots aside) and the provider authenticated the sender: a reply to a
bulk email from someone it was forwarded to, or a forged one, is never filed under the
customer it was sent to. A sender we know is always in their own conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

from conversations import statements
from conversations.models import Event, Identity

from .models import Mail

_ID = re.compile(r"<([^<>\s]{1,250})>")
_GMAIL = {"gmail.com", "googlemail.com"}
MAX_REFERENCES = 20  # the newest ones: enough to thread, bounded to store


def message_id_for(event_id: int) -> str:
    """Our Message-ID for the email of this event (without <>): stable, not guessable."""
    token = salted_hmac("throughline.email.message-id", str(event_id)).hexdigest()[:16]
    return f"tl.{event_id}.{token}@{settings.EMAIL_MESSAGE_ID_DOMAIN}"


def ids_in(header: str | None) -> list[str]:
    """The message ids named in an In-Reply-To or References header, in order."""
    return _ID.findall(header or "")


@dataclass(frozen=True)
class Answered:
    """The mail an inbound message answers: its event, the customer's address on it, and
    whose conversation it is in."""

    event_id: int
    address: str
    customer_id: int


@dataclass(frozen=True)
class Known:
    """What the database knows of an inbound mail before it is written."""

    customer_id: int | None  # the sender's, when their address is one of our identities
    recorded_id: int | None  # the event of this very mail, already filed with its Mail row
    answered: Answered | None  # the newest mail we know among those it answers


# Everything an inbound mail needs to know before it is written, in one round trip
# (prepared: docs/adr/0004): the sender's customer, a repeat of this mail (the provider's
# retry, or the same mail through the other provider), and the mail it answers, the ids in
# order (In-Reply-To first, then the newest reference). Each part is an index probe, and
# written so that it stays one whatever the statistics say: the repeat through the
# journal's global key (one probe, where the events' own index is one per partition) and
# its Mail by a scalar subquery; the answered mail through LATERAL subqueries with a
# LIMIT, which the planner cannot flatten into a join. As plain joins, the prepared
# statement's generic plan, made while `email_mail` was young and unanalysed, hashed the
# whole of `email_mail` twice for every mail (a cost growing with the table).
_KNOWN_SQL = """
SELECT
    (SELECT customer_id FROM conversations_identity
        WHERE kind = %(kind)s AND value = %(sender)s),
    (SELECT source.event_id FROM conversations_eventsource source
        WHERE source.channel = %(channel)s AND source.source_id = %(source_id)s
            AND (SELECT mail.id FROM email_mail mail WHERE mail.event_id = source.event_id)
                IS NOT NULL),
    answered.event_id, answered.address, answered.customer_id
FROM (SELECT 1) one LEFT JOIN (
    SELECT mail.event_id, mail.address, conversation.customer_id
    FROM unnest(%(ids)s::text[]) WITH ORDINALITY AS named(message_id, n)
    CROSS JOIN LATERAL (
        SELECT event_id, address FROM email_mail WHERE message_id = named.message_id LIMIT 1
    ) mail
    CROSS JOIN LATERAL (
        SELECT conversation_id FROM conversations_event WHERE id = mail.event_id LIMIT 1
    ) event
    JOIN conversations_conversation conversation ON conversation.id = event.conversation_id
    ORDER BY named.n LIMIT 1
) answered ON true
"""


def known(*, sender: str, source_id: str, in_reply_to: list[str], references: list[str]) -> Known:
    """The sender's customer, a repeat of this mail, and the newest mail of ours (or
    theirs) it answers (In-Reply-To first), in one statement."""
    ids = list(dict.fromkeys(in_reply_to + list(reversed(references))))[: MAX_REFERENCES * 2]
    with statements.cursor() as cursor:
        cursor.execute(
            _KNOWN_SQL,
            {
                "kind": Identity.Kind.EMAIL,
                "sender": sender,
                "channel": Event.Channel.EMAIL,
                "source_id": source_id,
                "ids": ids,
            },
        )
        customer_id, recorded_id, event_id, address, owner_id = cursor.fetchone()
    answered = Answered(event_id, address, owner_id) if event_id is not None else None
    return Known(customer_id, recorded_id, answered)


def mailbox(address: str) -> str:
    """The mailbox an address delivers to: "Jane.Doe+shop@Gmail.com" -> "janedoe@gmail.com"."""
    local, _, domain = address.lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def same_mailbox(a: str, b: str) -> bool:
    return bool(a and b) and mailbox(a) == mailbox(b)


def last_customer_mail(conversation_id: int) -> Mail | None:
    """The customer's newest mail in the conversation: what our answer replies to."""
    return (
        Mail.objects.filter(event__conversation_id=conversation_id, direction=Mail.Direction.IN)
        .exclude(message_id="")
        .order_by("-event__seq")
        .first()
    )


def last_subject(conversation_id: int) -> str:
    """The subject the customer last wrote under (a mail, or the widget's email form)."""
    subject = (
        Event.objects.filter(
            conversation_id=conversation_id, channel="email", direction="in", kind="message"
        )
        .order_by("-seq")
        .values_list("data__subject", flat=True)
        .first()
    )
    return subject if isinstance(subject, str) else ""


def reply_subject(subject: str) -> str:
    """Keep the subject: "Re: " once, as mail clients do."""
    subject = subject.strip()
    if not subject:
        return settings.EMAIL_DEFAULT_SUBJECT
    return subject if re.match(r"(?i)^re\s*:", subject) else f"Re: {subject}"


def references_for(mail: Mail) -> list[str]:
    """References of an answer to `mail`: its own references, then it (RFC 5322 3.6.4)."""
    return [*mail.references, mail.message_id][-MAX_REFERENCES:]
