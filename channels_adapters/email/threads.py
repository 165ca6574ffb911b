"""Threading both ways (docs/email.md, "Threading").

Out: every email we send has a Message-ID derived from its event (`message_id_for`), so
a retry sends the same one, and In-Reply-To / References naming the customer's last
mail, so their mail client files our answer under their message.

In: a reply names the messages it answers in In-Reply-To / References. `answered` finds
the newest of ours (or theirs) it names. It decides the conversation only for a sender
we do not know yet, and only when it is the same mailbox the named mail went to (a
"+tag" or, at Gmail, dots aside) and the provider authenticated the sender: a reply to a
bulk email from someone it was forwarded to, or a forged one, is never filed under the
customer it was sent to. A sender we know is always in their own conversation.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.crypto import salted_hmac

from conversations.models import Event

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


def answered(in_reply_to: list[str], references: list[str]) -> Mail | None:
    """The newest mail we know among those this message answers (In-Reply-To first)."""
    ids = list(dict.fromkeys(in_reply_to + list(reversed(references))))[: MAX_REFERENCES * 2]
    if not ids:
        return None
    found = {
        m.message_id: m for m in Mail.objects.filter(message_id__in=ids).select_related("event")
    }
    for message_id in ids:
        if message_id in found:
            return found[message_id]
    return None


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
