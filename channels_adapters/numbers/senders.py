"""Which of our numbers a message or call leaves from: the sticky sender.

A customer who wrote to (or called) a store's number hears back from that number, not
from the shop's main one: replies and proactive texts go out from the number of ours the
customer last used that can carry the channel; if it cannot (a voice-only line), from
another number of the same store that can; else from the shop's default number; else,
with no rows at all, from the settings (TWILIO_FROM_NUMBER or the Messaging Service,
VOICE_FROM_NUMBER). The message goes through the account that owns the number.

"Last used" is read from the conversation's latest inbound texts and calls (their `to`),
one query on the timeline's (conversation, seq) index.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from conversations.models import Event

from .directory import Credentials, Directory, Number, current

# How far back in the timeline to look for the number a customer last used: a customer
# who sent this many texts and calls, none to a number of ours, gets the default.
LOOKBACK = 20
# What counts as "using" a number: writing to it or calling it.
USED_ON = (Event.Channel.SMS, Event.Channel.WHATSAPP, Event.Channel.VOICE)


@dataclass(frozen=True)
class Sender:
    from_number: str = ""
    messaging_service_sid: str = ""
    account: Credentials | None = None  # None: the settings' account
    store_id: int | None = None


def last_used(directory: Directory, conversation_id: int) -> Number | None:
    """Our number the customer last wrote to or called, or None."""
    recent = (
        Event.objects.filter(
            conversation_id=conversation_id,
            direction=Event.Direction.IN,
            channel__in=USED_ON,
            data__has_key="to",
        )
        .order_by("-seq")
        .values_list("data__to", flat=True)[:LOOKBACK]
    )
    for to in recent:
        if isinstance(to, str) and (number := directory.number(to)) is not None:
            return number
    return None


def choose(directory: Directory, conversation_id: int | None, channel: str) -> Number | None:
    """The number to reach this conversation's customer on `channel` from (see above)."""
    used = last_used(directory, conversation_id) if conversation_id else None
    return following(directory, used, channel)


def following(directory: Directory, used: Number | None, channel: str) -> Number | None:
    """The number to answer on `channel` a customer who last used `used`."""
    if used is not None:
        if used.can(channel):
            return used
        if used.store_id is not None and (same_store := directory.of_store(used.store_id, channel)):
            return same_store
    default = directory.default
    return default if default is not None and default.can(channel) else None


def message_sender(conversation_id: int | None, *, channel: str, from_address: str = "") -> Sender:
    """Who sends this text: `from_address` when the caller chose one, else the sticky sender."""
    directory = current()
    if from_address:
        number = directory.number(from_address) if directory else None
        account = number.account if number else _default_account(directory)
        return Sender(from_number=from_address, account=account)
    if directory is None:
        return Sender(settings.TWILIO_FROM_NUMBER, settings.TWILIO_MESSAGING_SERVICE_SID)
    number = choose(directory, conversation_id, channel)
    if number is None:
        # numbers are rows, but none fits: the settings still name a sender
        return Sender(
            settings.TWILIO_FROM_NUMBER,
            settings.TWILIO_MESSAGING_SERVICE_SID,
            _default_account(directory),
        )
    return _sender(number)


def caller_id(conversation_id: int | None) -> Sender:
    """Whose number a call we place shows, and the account that places it."""
    directory = current()
    number = choose(directory, conversation_id, "voice") if directory else None
    if number is None or not number.address:
        return Sender(settings.VOICE_FROM_NUMBER, account=_default_account(directory))
    return Sender(number.address, account=number.account, store_id=number.store_id)


def _sender(number: Number) -> Sender:
    return Sender(
        from_number=number.address,
        messaging_service_sid=number.service_sid,
        account=number.account,
        store_id=number.store_id,
    )


def _default_account(directory: Directory | None) -> Credentials | None:
    default = directory.default if directory else None
    return default.account if default else None
