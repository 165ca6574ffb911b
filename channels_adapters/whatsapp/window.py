"""WhatsApp's 24-hour customer service window, and the templates that may go outside it.

WhatsApp lets a business write free text to a customer only within 24 hours of the
customer's last message to it; outside that window only a template Meta approved may
open the conversation again (Twilio Content templates: a `ContentSid` with its
`ContentVariables`). The window is read from the journal: the newest inbound event on
the `whatsapp` channel of the customer's conversation (a message, a STOP, a button
press: WhatsApp counts every message the customer sends).

Who asks:
- `whatsapp_window(customer)`: the console and the reply verb (outbound.py);
- `provide` (a context provider): the window in the customer context
  (`extra["whatsapp_window"]`, the typed `WhatsAppWindow` part);
- `gate` (an engagement gate): the arbiter routes a proactive nudge to WhatsApp only when
  the window is open or the nudge's topic has an approved template;
- `check` (a send check): a free-form message still waiting (quiet hours, a retry) when
  the window closes is not sent, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from conversations.context import ContextPart
from conversations.identities import live_customer
from conversations.models import Customer, Event, Identity, Outbox
from conversations.send_checks import Hold

WINDOW = timedelta(hours=24)  # WhatsApp's rule, not ours: not a setting
SESSION = "session"  # free text, inside the window
TEMPLATE = "template"  # an approved Content template, any time


@dataclass(frozen=True)
class Window:
    """When the customer last wrote on WhatsApp, and until when free text may go."""

    last_inbound_at: datetime | None

    @property
    def open_until(self) -> datetime | None:
        return self.last_inbound_at + WINDOW if self.last_inbound_at else None

    def is_open(self, now: datetime | None = None) -> bool:
        return self.open_until is not None and (now or timezone.now()) < self.open_until

    def describe(self, now: datetime | None = None) -> str:
        """For agents: "open until Tue 14:05 UTC" or "closed since ..." / "never opened"."""
        if self.open_until is None:
            return "never opened: the customer has not written on WhatsApp"
        if self.is_open(now):
            return f"open until {self.open_until:%a %d %b %H:%M} UTC"
        return f"closed since {self.open_until:%a %d %b %H:%M} UTC"


def whatsapp_window(customer: Customer, *, now: datetime | None = None) -> Window:
    """The customer's WhatsApp window (one query on the timeline index)."""
    customer = live_customer(customer)
    last = (
        Event.objects.filter(
            conversation__customer=customer,
            channel=Event.Channel.WHATSAPP,
            direction=Event.Direction.IN,
        )
        .order_by("-seq")
        .values_list("occurred_at", flat=True)
        .first()
    )
    return Window(last_inbound_at=last)


def template_for(topic: str) -> str:
    """The approved Content SID for `topic` (THROUGHLINE_WHATSAPP_TEMPLATES), "" if none."""
    return (settings.THROUGHLINE_WHATSAPP_TEMPLATES or {}).get(topic, "") if topic else ""


def outside_window_reason(window: Window, topic: str, now: datetime | None = None) -> str:
    about = f"for {topic.replace('_', ' ')}" if topic else "for a message that has no topic"
    return (
        f"outside WhatsApp's 24-hour window ({window.describe(now)}) and no approved "
        f"template {about} (THROUGHLINE_WHATSAPP_TEMPLATES)"
    )


# ---------------------------------------------------------------------------- plugs


@dataclass(frozen=True)
class WhatsAppWindow(ContextPart):
    """The customer context's part: the window of a customer who has a WhatsApp account."""

    window: Window
    now: datetime

    @property
    def is_open(self) -> bool:
        return self.window.is_open(self.now)

    def as_extra(self) -> dict[str, Any]:
        until = self.window.open_until
        return {
            "whatsapp_window": {
                "open": self.is_open,
                "open_until": until.isoformat() if until else None,
                "label": self.window.describe(self.now),
            }
        }


def provide(customer: Customer) -> list[WhatsAppWindow]:
    """Context provider: the window, for customers with a WhatsApp identity only."""
    if not customer.identities.filter(kind=Identity.Kind.WHATSAPP).exists():
        return []
    return [WhatsAppWindow(whatsapp_window(customer), timezone.now())]


def gate(customer: Customer, *, topic: str, channel: str, now: datetime) -> str | None:
    """Engagement gate: WhatsApp carries a nudge inside the window (free text) or with the
    topic's approved template; otherwise the reason, and the arbiter tries its next channel."""
    if channel != Event.Channel.WHATSAPP:
        return None
    window = whatsapp_window(customer, now=now)
    if window.is_open(now) or template_for(topic):
        return None
    return outside_window_reason(window, topic, now)


def check(item: Outbox, *, now: datetime) -> Hold | None:
    """Send check: free text queued inside the window but tried after it closed (quiet
    hours, retries) is dropped; WhatsApp would refuse it (error 63016) anyway."""
    if item.channel != Event.Channel.WHATSAPP:
        return None
    mode = ((item.event.data or {}).get("whatsapp") or {}).get("mode")
    if mode == TEMPLATE:
        return None  # any time
    window = whatsapp_window(item.event.conversation.customer, now=now)
    if window.is_open(now):
        return None
    return Hold(
        f"WhatsApp's 24-hour window closed before it could be sent ({window.describe(now)})"
    )
