"""Outbound SMS: `send_sms` for callers, `deliver` as the outbox's SMS sender.

Sending is the outbox's job (conversations/outbox.py): `send_sms` writes the event and
the outbox row, and the outbox calls `deliver` (registered in THROUGHLINE_SENDERS) from a
Celery worker, outside any transaction. `deliver` turns the row into an `SmsMessage` for
the configured backend, with our status callback URL so delivery reports come back.
It leaves from the number the customer last used with us, through that number's account
(numbers/senders.py: the sticky sender), else from the shop's default number.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from channels_adapters.numbers import senders
from conversations import outbox
from conversations.models import Customer, Event, Outbox

from .backends import SmsMessage, get_backend


def send_sms(
    *,
    customer: Customer,
    body: str,
    author=None,
    to: str | None = None,
    media_urls: list[str] | tuple[str, ...] = (),
) -> Event:
    """Text the customer (on `to`, or their newest phone that has not opted out); return the event.

    Raises `outbox.Refused` with a reason an agent can read when nothing may be sent.
    """
    return outbox.send(
        customer=customer,
        channel=Event.Channel.SMS,
        body=body,
        author=author,
        to=to,
        media_urls=media_urls,
    )


def status_callback_url(outbox_id: int) -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('sms:status')}?outbox={outbox_id}"


def deliver(item: Outbox) -> outbox.Receipt:
    """The outbox's sender for SMS: hand one row to the SMS backend of the sender's account."""
    sender = senders.message_sender(
        item.event.conversation_id, channel=item.channel, from_address=item.from_address
    )
    message = SmsMessage(
        to=item.to_address,
        body=item.body,
        from_number=sender.from_number,
        messaging_service_sid=sender.messaging_service_sid,
        media_urls=tuple(item.media_urls),
        status_callback=status_callback_url(item.pk),
        metadata={"outbox": item.pk},
    )
    return get_backend(sender.account).send(message)
