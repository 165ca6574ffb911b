"""The outbox's send verb and its checks (docs/twilio.md, "Outbound").

`send` writes the outbound `message` event and its `Outbox` row in one transaction and
enqueues delivery after commit; before writing anything it refuses, with a reason an
agent can read (`Refused`), a channel we do not send on, an empty or oversized message,
a customer with no address on the channel or none that may be written to (consent).
Delivery, its outcomes and the provider's callbacks are conversations/outbox.py's; the
retry schedule and the sweep are outbox_retry.py's. Import these names from
`conversations.outbox`, which re-exports them.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from base import plugins
from conversations import consent, journal
from conversations.identities import InvalidIdentity, live_customer, normalize_identity
from conversations.models import Customer, Event, Identity, Outbox
from conversations.outbox_retry import ENQUEUE_LEASE

# Which identity a channel sends to.
ADDRESS_KIND = {
    "sms": Identity.Kind.PHONE,
    "voice": Identity.Kind.PHONE,
    "email": Identity.Kind.EMAIL,
    "whatsapp": Identity.Kind.WHATSAPP,  # its own consent: STOP on WhatsApp is not STOP by SMS
}
# Other identity kinds a channel reaches: a short code is answered by SMS.
ALSO_REACHES = {"sms": (Identity.Kind.SHORT_CODE,)}
# Channels recorded faithfully that we do not send on, and why (said to the agent).
# (WhatsApp is sent on by its adapter, which keeps WhatsApp's 24-hour window rules.)
NOT_SENT_ON: dict[str, str] = {}
# Twilio's limit for one message body (it splits it into segments up to this length).
MAX_BODY_CHARS = 1600
MAX_MEDIA = 10
# Characters that cost money and mean nothing: a stray no-break space turns a GSM-7 SMS
# into UCS-2, which halves the characters per segment and so can double the price.
_INVISIBLE = str.maketrans(
    {"\xa0": " ", "\u202f": " ", "\u2007": " ", "\u200b": None, "\ufeff": None}
)


class Refused(Exception):
    """The message was not written: no consent, no address, nothing to send. Say it to the agent."""


def send(
    *,
    customer: Customer,
    channel: str,
    body: str,
    author=None,
    to: str | None = None,
    from_address: str = "",
    media_urls: list[str] | tuple[str, ...] = (),
    data: dict | None = None,
) -> Event:
    """Write an outbound message to the customer on `channel`; return its event.

    Delivery happens after commit (a Celery task, then `deliver`). `to` picks one of the
    customer's addresses; by default the newest one that has not opted out. Raises
    `Refused` with a reason an agent can read when nothing may be sent. Not durable on
    purpose: a caller deciding to send (the engagement arbiter) writes its decision and
    this row in one transaction.
    """
    if channel in NOT_SENT_ON:
        raise Refused(NOT_SENT_ON[channel])
    if channel not in plugins.mapping("senders"):
        raise Refused(f"Throughline cannot send on {channel!r} (no sender in THROUGHLINE_SENDERS).")
    body = plain_text(body)
    media_urls = list(media_urls)
    if not body and not media_urls:
        raise Refused("There is nothing to send: the message is empty.")
    if len(body) > MAX_BODY_CHARS:
        raise Refused(f"The message is {len(body)} characters; the limit is {MAX_BODY_CHARS}.")
    if len(media_urls) > MAX_MEDIA:
        raise Refused(f"At most {MAX_MEDIA} attachments fit in one message.")
    with transaction.atomic():
        customer = live_customer(customer)
        recipient = _recipient(customer, channel, to)
        event = journal.record(
            customer=customer,
            channel=channel,
            kind="message",
            direction=Event.Direction.OUT,
            body=body,
            data={
                **(data or {}),
                "to": recipient.value,
                **({"media_urls": media_urls} if media_urls else {}),
            },
            author=author,
            delivery_status="pending",
        )
        now = timezone.now()
        item = Outbox.objects.create(
            channel=channel,
            event=event,
            to_address=recipient.value,
            from_address=from_address,
            body=body,
            media_urls=media_urls,
            next_attempt_at=now + ENQUEUE_LEASE,
            created_at=now,
            updated_at=now,
        )
        enqueue_delivery_on_commit(item.pk)
    return event


def plain_text(body: str) -> str:
    return str(body).translate(_INVISIBLE).strip()


def _recipient(customer: Customer, channel: str, to: str | None) -> Identity:
    kind = ADDRESS_KIND.get(channel)
    if kind is None:
        raise Refused(f"No address kind is known for channel {channel!r}.")
    kinds = (kind, *ALSO_REACHES.get(channel, ()))
    identities = customer.identities.filter(kind__in=kinds)
    if to is not None:
        identities = identities.filter(value=_address(kinds, to))
    candidates = list(identities.order_by("-created_at", "-pk"))
    if (
        not candidates
        and channel == "sms"
        and (sender_id := customer.identities.filter(kind=Identity.Kind.ALPHANUMERIC).first())
    ):
        raise Refused(
            f"This customer texted from the sender id {sender_id.value!r}, which cannot "
            "receive replies, and has no phone number to text."
        )
    if not candidates:
        raise Refused(
            f"This customer has no {kind} to send {channel} to"
            + (" at that address." if to else ".")
        )
    reasons = []
    for identity in candidates:
        if (reason := consent.refusal(channel, identity)) is None:  # nor suppressed
            return identity
        reasons.append(reason)
    raise Refused(reasons[0])


def _address(kinds: tuple[str, ...], to: str) -> str:
    """`to` normalised as the first of `kinds` it is (a phone, else a short code)."""
    for kind in kinds:
        try:
            return normalize_identity(kind, to)[1]
        except InvalidIdentity as exc:
            problem = exc
    raise Refused(str(problem)) from None


def enqueue_delivery_on_commit(outbox_id: int) -> None:
    """Queue `deliver(outbox_id)` once the row is committed. If the broker is down, the row
    stays pending and the sweep enqueues it after ENQUEUE_LEASE."""
    from conversations.tasks import deliver_outbox_item  # tasks imports outbox, us

    transaction.on_commit(lambda: deliver_outbox_item.delay(outbox_id), robust=True)
