"""After hours: someone writes (SMS or widget) while their store is closed; we say when
it opens and offer a call back (the schedule-a-call-back link). One acknowledgement per
customer per closed period, on the channel they wrote on.

`acknowledge(event)` is called by hooks.py for every inbound message, and may be called
by routing too: the dedupe key makes the second call a no-op.

The store is the one whose number the text went to, else the one the customer last
scanned a code in, else the only store with business hours; none: no acknowledgement.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from conversations.identities import live_customer
from conversations.models import Customer, Event
from instore.models import WEEKDAYS, Store

from .. import local_time
from ..models import Nudge
from . import Defaults, Rule

STEP_1 = (
    "Thanks for your message! {{ store.name }} is closed right now; we open again "
    "{{ opens_at }} and will answer then. "
    "Prefer a call? Pick a time: {{ links.callback }}"
)


class AfterHours(Rule):
    slug = "after_hours"
    topic = "service_followups"
    responsive = True  # an answer to her message, whatever the hour
    worth_sending = timedelta(hours=12)  # by then the store has opened and answered
    defaults = Defaults(priority=40, steps=((0, STEP_1),))

    def acknowledge(self, event: Event) -> Nudge | None:
        """The acknowledgement of this inbound message, when the store is closed."""
        if (event.direction, event.kind) != (Event.Direction.IN, "message") or (
            event.channel not in ("sms", "web")
        ):
            return None
        config = self.config()
        if not config.enabled:
            return None
        customer = live_customer(Customer(pk=event.conversation.customer_id))
        store = _store_for(event, customer)
        if store is None:
            return None
        now = timezone.now()
        opens = next_opening(store, now)
        if opens is None:
            return None  # open now, or no hours at all
        dedupe_key = acknowledgement_key(customer.pk, opens)
        if Nudge.objects.filter(dedupe_key=dedupe_key).exists():
            return None  # acknowledged already in this closed period: quietly
        sender = (event.data or {}).get("from", "") if event.channel == "sms" else ""
        return self.propose_step(
            config,
            customer,
            step=1,
            dedupe_key=dedupe_key,
            context={
                "store": {"name": store.name, "phone": store.phone},
                "opens_at": spoken_opening(opens, now),
            },
            data={**({"to": sender} if sender else {}), "message": event.pk, "store": store.pk},
            channels=(event.channel,),
        )


def acknowledgement_key(customer_id: int, opens: datetime) -> str:
    """One acknowledgement per customer and closed period (the opening it announces)."""
    return f"{RULE.slug}:{customer_id}:{opens:%Y%m%dT%H%M}"


def _store_for(event: Event, customer: Customer) -> Store | None:
    to = (event.data or {}).get("to") if event.channel == "sms" else None
    # the store whose own phone, or one of whose numbers (channels_adapters.numbers' rows,
    # by relation name), was texted
    if to and (
        store := Store.objects.filter(Q(phone=to) | Q(messaging_numbers__phone_number=to))
        .order_by("pk")
        .first()
    ):
        return store
    if store := local_time.customer_store(customer):
        return store
    with_hours = list(Store.objects.exclude(business_hours={})[:2])
    return with_hours[0] if len(with_hours) == 1 else None


def next_opening(store: Store, now: datetime) -> datetime | None:
    """When the store next opens, in its own time zone; None if it is open now or has no
    hours. Looks a week ahead ("24:00" closes at midnight)."""
    tz = local_time.zone(store.time_zone) or zoneinfo.ZoneInfo("UTC")
    local = now.astimezone(tz)
    hhmm = local.strftime("%H:%M")
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        for opens, closes in sorted(store.hours_on(WEEKDAYS[day.weekday()])):
            if offset == 0 and opens <= hhmm < closes:
                return None
            if offset > 0 or opens > hhmm:
                hour, minute = (int(part) for part in opens.split(":"))
                return datetime(day.year, day.month, day.day, hour % 24, minute, tzinfo=tz)
    return None


def spoken_opening(opens: datetime, now: datetime) -> str:
    """ "today at 9am", "tomorrow at 9:30am", "on Monday at 10am" (the store's clock)."""
    today = now.astimezone(opens.tzinfo).date()
    hour12 = opens.hour % 12 or 12
    suffix = "am" if opens.hour < 12 else "pm"
    at = f"{hour12}{suffix}" if opens.minute == 0 else f"{hour12}:{opens.minute:02d}{suffix}"
    if opens.date() == today:
        return f"today at {at}"
    if opens.date() == today + timedelta(days=1):
        return f"tomorrow at {at}"
    return f"on {opens:%A} at {at}"


RULE = AfterHours()
acknowledge = RULE.acknowledge
