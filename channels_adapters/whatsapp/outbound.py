"""Outbound WhatsApp: `send_whatsapp`, the channel's reply verb, and `deliver`, its sender.

`send_whatsapp` decides what WhatsApp allows now (window.py): free text inside the
24-hour window; outside it, the approved template of the message's topic, or nothing
(`outbox.Refused` with the reason). What was decided is in the event's
`data["whatsapp"]`: `{"mode": "session", "open_until": ...}` or `{"mode": "template",
"content_sid": ..., "content_variables": ..., "topic": ...}`. The outbox then writes the
row, checks consent and quiet hours and calls `deliver` from a worker, as for SMS.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from conversations import outbox
from conversations.models import Customer, Event, Outbox

from . import window as windows
from .backends import WhatsAppMessage, get_backend

MAX_VARIABLES = 20
MAX_VARIABLE_CHARS = 1000


def send_whatsapp(
    *,
    customer: Customer,
    body: str,
    channel: str = Event.Channel.WHATSAPP,
    author=None,
    to: str | None = None,
    topic: str = "",
    variables: dict | None = None,
    data: dict | None = None,
    media_urls: list[str] | tuple[str, ...] = (),
) -> Event:
    """Write to the customer on WhatsApp: free text inside the window, else the approved
    template of `topic` (with `variables` for its placeholders); return the event.

    Raises `outbox.Refused` with a reason an agent can read: outside the window with no
    template, no WhatsApp account, opted out, nothing to send. The console's reply box
    and the engagement arbiter reach it as the `whatsapp` reply verb.
    """
    if channel != Event.Channel.WHATSAPP:
        raise outbox.Refused(f"send_whatsapp sends on WhatsApp, not on {channel!r}.")
    now = timezone.now()
    window = windows.whatsapp_window(customer, now=now)
    if window.is_open(now):
        decided = {"mode": windows.SESSION, "open_until": window.open_until.isoformat()}
    else:
        content_sid = windows.template_for(topic)
        if not content_sid:
            reason = windows.outside_window_reason(window, topic, now)
            raise outbox.Refused(reason[0].upper() + reason[1:] + ".")
        decided = {
            "mode": windows.TEMPLATE,
            "topic": topic,
            "content_sid": content_sid,
            "content_variables": _variables(variables),
        }
        # The customer reads the template's approved words, not ours: the timeline says so
        # and keeps what we meant to say beside it.
        data = {**(data or {}), "intended_body": body}
        body = f"WhatsApp template “{topic}” ({content_sid})"
        media_urls = ()  # a template carries the media it was approved with
    return outbox.send(
        customer=customer,
        channel=Event.Channel.WHATSAPP,
        body=body,
        author=author,
        to=to,
        media_urls=media_urls,
        data={**(data or {}), "whatsapp": decided},
    )


def _variables(variables: dict | None) -> dict[str, str]:
    """Content variables as Twilio takes them: string keys ("1", "2") to strings."""
    if not variables:
        return {}
    if len(variables) > MAX_VARIABLES:
        raise outbox.Refused(f"A template takes at most {MAX_VARIABLES} variables.")
    cleaned = {str(k): str(v) for k, v in variables.items()}
    if any(len(v) > MAX_VARIABLE_CHARS for v in cleaned.values()):
        raise outbox.Refused(f"A template variable is longer than {MAX_VARIABLE_CHARS} characters.")
    return cleaned


def status_callback_url(outbox_id: int) -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('whatsapp:status')}?outbox={outbox_id}"


def deliver(item: Outbox) -> outbox.Receipt:
    """The outbox's sender for WhatsApp: hand one row to the WhatsApp backend."""
    decided = (item.event.data or {}).get("whatsapp") or {}
    template = decided.get("mode") == windows.TEMPLATE
    from_number = item.from_address or settings.WHATSAPP_FROM_NUMBER
    service = "" if item.from_address else settings.WHATSAPP_MESSAGING_SERVICE_SID
    if not (from_number or service):
        raise outbox.SendError(
            "No WhatsApp sender is configured (WHATSAPP_FROM_NUMBER or "
            "WHATSAPP_MESSAGING_SERVICE_SID, docs/whatsapp.md).",
            code="no_sender",
            permanent=True,
        )
    message = WhatsAppMessage(
        to=item.to_address,
        body="" if template else item.body,
        from_number=from_number,
        messaging_service_sid=service,
        media_urls=() if template else tuple(item.media_urls),
        content_sid=decided.get("content_sid", "") if template else "",
        content_variables=decided.get("content_variables") or {} if template else {},
        status_callback=status_callback_url(item.pk),
        metadata={"outbox": item.pk},
    )
    return get_backend().send(message)
