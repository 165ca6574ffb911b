"""Outbound email: `reply_by_email`, the reply verb, and `deliver`, the outbox's sender.

The console's reply box (and any caller) writes through `reply_by_email`, which keeps the
subject of the customer's last mail ("Re: ..."); the outbox writes the event and its row
and checks consent, then a Celery worker calls `deliver` outside any transaction. The
first attempt fixes the mail's headers on a `Mail` row, so every retry sends the same:
a Message-ID derived from the event, In-Reply-To / References naming the customer's
last mail (threads.py), and for anything proactive (a nudge) RFC 8058's one-click
List-Unsubscribe, whose POST records the revocation (unsubscribe.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.urls import reverse

from conversations import outbox
from conversations.models import Customer, Event, Outbox

from . import backends, threads, unsubscribe
from .models import Mail


def reply_by_email(
    *,
    customer: Customer,
    body: str,
    author=None,
    channel: str = "email",
    to=None,
    subject: str = "",
) -> Event:
    """Email the customer (the reply verb of channel "email"); return the event.

    The subject is `subject`, else the customer's last mail's with "Re: ", else
    EMAIL_DEFAULT_SUBJECT. Raises `outbox.Refused` with a reason an agent can read.
    """
    if not subject:
        subject = threads.reply_subject(threads.last_subject(customer.conversation.pk))
    return outbox.send(
        customer=customer,
        channel=Event.Channel.EMAIL,
        body=body,
        author=author,
        to=to,
        data={"subject": subject[:255]},
    )


def deliver(item: Outbox) -> outbox.Receipt:
    """The outbox's sender for email: one row to the configured backend."""
    mail = headers_of(item)
    headers = {"Message-ID": f"<{mail.message_id}>"}
    if mail.in_reply_to:
        headers["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        headers["References"] = " ".join(f"<{i}>" for i in mail.references)
    if item.event.data.get("nudge"):
        headers["List-Unsubscribe"] = f"<{unsubscribe_url(item.event_id)}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=item.body,
        from_email=item.from_address or settings.EMAIL_FROM,
        to=[item.to_address],
        headers=headers,
    )
    # anymail sends metadata with the message and its tracking webhooks bring it back:
    # a status for a message whose provider id we never stored still finds its row
    message.metadata = {"outbox": str(item.pk)}
    return backends.send(message, message_id=mail.message_id)


def headers_of(item: Outbox) -> Mail:
    """The mail's fixed headers, written on its first attempt (a retry reads them back)."""
    if existing := Mail.objects.filter(event_id=item.event_id).first():
        return existing
    event = item.event
    last = threads.last_customer_mail(event.conversation_id)
    subject = event.data.get("subject") or (
        settings.EMAIL_DEFAULT_SUBJECT  # a nudge answers nothing the customer wrote
        if event.data.get("nudge")
        else threads.reply_subject(threads.last_subject(event.conversation_id))
    )
    try:
        with transaction.atomic():
            return Mail.objects.create(
                event=event,
                direction=Mail.Direction.OUT,
                message_id=threads.message_id_for(event.pk),
                address=item.to_address,
                subject=subject[:255],
                in_reply_to=last.message_id if last else "",
                references=threads.references_for(last) if last else [],
            )
    except IntegrityError:  # two workers at once (the claim prevents it; a sweep may not)
        return Mail.objects.get(event_id=item.event_id)


def unsubscribe_url(event_id: int) -> str:
    path = reverse("email:unsubscribe", args=[unsubscribe.token_for(event_id)])
    return f"{settings.PUBLIC_BASE_URL}{path}"
