"""The reply box: which channels an agent may answer on, the default one, and `reply`.

The channel picker defaults to where the customer can be reached now (`reach`): the web
chat only while they have the widget open, else their preferred channel (the one they
start and answer on most), else the one they last used, else the first one allowed; the
reason is shown beside the picker. A channel that is not allowed carries the reason (no
phone number, opted out...). Sending goes through
the channel's own verb, which its adapter declares (conversations/reply_verbs.py; the
console never imports an adapter): `outbox.send` for SMS, the widget's `reply_on_web`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import redis
from django.db.models import Count
from django.utils import timezone

from base.redis_client import redis_client
from conversations import reply_verbs
from conversations.context import CustomerContext
from conversations.models import Event
from conversations.outbox import NOT_SENT_ON, Refused

LABELS = {"sms": "SMS", "web": "Web chat", "whatsapp": "WhatsApp", "email": "Email"}
# Where the customer started or answered lately: the last this many inbound events.
PREFERENCE_WINDOW = 50


@dataclass(frozen=True)
class ReplyChannel:
    channel: str
    label: str
    allowed: bool
    reason: str = ""  # why not, when not allowed


def reply_channels(context: CustomerContext) -> list[ReplyChannel]:
    """Every channel the console can answer on, each allowed or with the reason why not."""
    channels = []
    for channel in reply_verbs.reply_channels():
        allowed, reason = _reachable(context, channel)
        label = LABELS.get(channel, channel)
        if channel == "whatsapp" and allowed:  # "WhatsApp (open until Tue 10 Mar 17:00 UTC)"
            label = f"{label} ({context.extra['whatsapp_window']['label']})"
        channels.append(ReplyChannel(channel, label, allowed, reason))
    return channels


def _reachable(context: CustomerContext, channel: str) -> tuple[bool, str]:
    if channel in NOT_SENT_ON:
        return False, NOT_SENT_ON[channel]
    if channel == "sms":
        # a short code is answered by SMS; an alphanumeric sender id cannot be
        phones = [i for i in context.identities if i.kind in ("phone", "short_code")]
        if not phones and any(i.kind == "alphanumeric" for i in context.identities):
            return False, "The customer's sender id cannot receive replies, and no phone is known."
        if not phones:
            return False, "No phone number is known for this customer."
        if all(i.opted_out for i in phones):
            return False, "The customer opted out of SMS (STOP); texting is not allowed."
        return True, ""
    if channel == "whatsapp":
        accounts = [i for i in context.identities if i.kind == "whatsapp"]
        if not accounts:
            return False, "The customer has never written on WhatsApp."
        if all(i.opted_out for i in accounts):
            return False, "The customer opted out of WhatsApp (STOP); nothing may be sent."
        # the WhatsApp adapter's context part (window.py): free text only within 24 hours
        # of the customer's last WhatsApp message; the reply box sends free text
        window = context.extra.get("whatsapp_window") or {}
        if not window.get("open"):
            return False, (
                f"WhatsApp's 24-hour window: {window.get('label', 'closed')}; only approved "
                "templates may be sent until the customer writes again."
            )
        return True, ""
    if channel == "email":
        addresses = [i for i in context.identities if i.kind == "email"]
        if not addresses:
            return False, "No email address is known for this customer."
        if all(i.opted_out for i in addresses):
            return False, "The customer unsubscribed from email; nothing may be sent."
        return True, ""
    if channel == "web":
        if not any(i.kind == "visitor" for i in context.identities):
            return False, "The customer has never used the web chat."
        return True, ""
    return True, ""


def preferred_channel(conversation) -> str:
    """The channel the customer starts and answers on most, over their latest inbound
    messages and calls (one bounded query); "" when they never wrote or called."""
    latest = (
        Event.objects.filter(
            conversation=conversation,
            direction=Event.Direction.IN,
            kind__in=["message", "call", "voicemail"],
        )
        .order_by("-seq")
        .values("pk")[:PREFERENCE_WINDOW]
    )
    counts = (
        Event.objects.filter(pk__in=latest)
        .values("channel")
        .annotate(n=Count("pk"))
        .order_by("-n", "channel")
    )
    top = counts.first()
    return top["channel"] if top else ""


def default_channel(channels: list[ReplyChannel], *, last: str, preferred: str) -> str:
    return reach(channels, last=last, preferred=preferred, widget_open=False)[0]


def reach(
    channels: list[ReplyChannel], *, last: str, preferred: str, widget_open: bool
) -> tuple[str, str]:
    """Where the customer can be reached now, and why: (channel, reason shown beside the
    picker). The web chat only while the widget is open: a chat answer to a shopper who
    left the site waits unread until they come back, a text reaches them now."""
    allowed = [c.channel for c in channels if c.allowed]
    if widget_open and "web" in allowed:
        return "web", "The customer has the web chat open now."
    reachable = [c for c in allowed if c != "web"]
    label = LABELS.get
    # the web chat would have been the natural answer: say why not
    away = "The customer is not on the web chat now; " if "web" in (preferred, last) else ""

    def said(why: str) -> str:
        return away + why if away else why[0].upper() + why[1:]

    if preferred in reachable:
        return preferred, said(f"they write and answer by {label(preferred, preferred)} most.")
    if last in reachable:
        return last, said(f"they last wrote by {label(last, last)}.")
    if reachable:
        return reachable[0], said(f"{label(reachable[0], reachable[0])} reaches them.")
    if "web" in allowed:
        return "web", "The web chat is all that is left; it is read when they come back."
    return "", ""


# ---- is the widget open? (the shopper's socket says so when it opens: a presence hook)

WIDGET_OPEN_FOR = timedelta(minutes=10)
_WIDGET_KEY = "throughline:console:widget-open:{}"


def widget_opened(customer, *, channel: str = "web") -> None:
    """Presence hook (console/apps.py): the shopper opened the widget. Remembered in Redis
    for WIDGET_OPEN_FOR, as the widget says when it opens but not when it closes."""
    conversation_id = getattr(getattr(customer, "conversation", None), "pk", None)
    if channel == "web" and conversation_id:
        redis_client().set(
            _WIDGET_KEY.format(conversation_id), "1", ex=int(WIDGET_OPEN_FOR.total_seconds())
        )


def widget_open(conversation) -> bool:
    """Has the customer the web chat open (opened it, or wrote in it, in the last
    WIDGET_OPEN_FOR)?"""
    recent = timezone.now() - WIDGET_OPEN_FOR
    if (
        conversation.last_channel == "web"
        and conversation.last_inbound_at
        and conversation.last_inbound_at >= recent
    ):
        return True
    try:
        return bool(redis_client().exists(_WIDGET_KEY.format(conversation.pk)))
    except redis.RedisError:  # no Redis: the reply box falls back to the preferred channel
        return False


def reply(*, customer, channel: str, body: str, author) -> Event:
    """Send the agent's answer on `channel`; raise Refused with a reason when it may not go."""
    if channel in NOT_SENT_ON:
        raise Refused(NOT_SENT_ON[channel])
    verb = reply_verbs.reply_verb(channel)
    if verb is None:
        raise Refused(f"The console cannot answer on {channel!r}.")
    try:
        if channel == "web":
            # the widget needs no address, so nothing else would stop a message nobody reads
            if not customer.identities.filter(kind="visitor").exists():
                raise Refused("The customer has never used the web chat.")
            return verb(customer=customer, author=author, body=body)
        return verb(customer=customer, channel=channel, body=body, author=author)
    except ValueError as exc:  # reply_on_web's "nothing to send"
        raise Refused(str(exc)) from None
