"""What a customer's event could still change in engagement, read in one statement.

Most events engagement reacts to are follow-ups that change nothing: a customer's second
text finds no nudge awaiting attribution, no open watch to stop or pause, no waiting
nudge to withdraw, and her store open (or acknowledged already). hooks.py asks this read
first and calls only the verbs (attribution.py, watches.py, arbiter.py, the rules) that
have something to do; each verb still decides for itself, so the read may only ever say
"maybe" where it is unsure, never "nothing" where a verb would act:

- `attribute`, `watches_open`, `nudges_waiting`, `cart_open` are the very conditions of
  `attribution.attribute`, `watches.close`, `arbiter.withdraw` and
  `cart_abandoned.pause` (without a replay's narrowing, which only removes rows);
- for the after-hours acknowledgement, the store `after_hours._store_for` picks (by the
  number written to, the customer's last scan, the only store with hours), the rule's
  `enabled`, and her recent acknowledgements' dedupe keys; `may_acknowledge` is False
  only when the rule is off, no store is found, the store is open now (or has no hours),
  or this closed period's acknowledgement exists (tests/engagement/test_outstanding.py
  holds the store choice to `_store_for`).

The statement is prepared (ADR 0004): it runs for nearly every inbound event, and
planning it would cost more than running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from conversations import statements
from instore.models import Store

from .rules import after_hours, cart_abandoned

# An acknowledgement is keyed by the opening it announces, at most a week and a day
# ahead of the message it answers (after_hours.next_opening looks 8 days on). Keys
# proposed earlier cannot match; missing one only means asking the rule itself.
ACKNOWLEDGED_LOOKBACK = timedelta(days=9)

_OUTSTANDING_SQL = """
WITH customer AS (
    SELECT c.id, c.merged_into_id FROM conversations_conversation v
    JOIN conversations_customer c ON c.id = v.customer_id
    WHERE v.id = %(conversation)s
), store AS (
    SELECT s.id, s.time_zone, s.business_hours FROM instore_store s
    WHERE %(answerable)s AND s.id = coalesce(
        (SELECT id FROM instore_store WHERE phone = %(to)s ORDER BY id LIMIT 1),
        (SELECT scan.store_id FROM instore_scan scan
            WHERE scan.visitor_id IN (
                SELECT i.value FROM conversations_identity i, customer
                WHERE i.customer_id = customer.id AND i.kind = 'visitor')
            ORDER BY scan.scanned_at DESC LIMIT 1),
        (SELECT min(id) FROM instore_store WHERE business_hours <> '{}'::jsonb
            HAVING count(*) = 1))
)
SELECT customer.id, customer.merged_into_id,
    EXISTS (SELECT 1 FROM engagement_nudge n
        WHERE n.customer_id = customer.id AND n.status = 'sent'
            AND n.decided_at >= %(since)s AND n.decided_at <= %(at)s
            AND NOT coalesce(CASE %(field)s::text WHEN 'replied_at' THEN n.replied_at
                WHEN 'ordered_at' THEN n.ordered_at ELSE n.opted_out_at END <= %(at)s, false)),
    EXISTS (SELECT 1 FROM engagement_watch w
        WHERE w.customer_id = customer.id AND w.closed_reason = ''
            AND (%(stop)s::text[] IS NULL OR w.rule = ANY(%(stop)s::text[]))),
    EXISTS (SELECT 1 FROM engagement_nudge n
        WHERE n.customer_id = customer.id AND n.status = 'waiting'
            AND (%(stop)s::text[] IS NULL OR n.rule = ANY(%(stop)s::text[]))),
    EXISTS (SELECT 1 FROM engagement_watch w
        WHERE w.customer_id = customer.id AND w.rule = %(cart)s AND w.closed_reason = ''),
    (SELECT enabled FROM engagement_ruleconfig WHERE %(answerable)s AND slug = %(ack)s),
    (SELECT array_agg(n.dedupe_key) FROM engagement_nudge n
        WHERE %(answerable)s AND n.customer_id = customer.id AND n.rule = %(ack)s
            AND n.proposed_at >= %(acknowledged_since)s),
    store.id, store.time_zone, store.business_hours
FROM customer LEFT JOIN store ON true
"""


@dataclass(frozen=True)
class Outstanding:
    customer_id: int
    attribute: bool  # a sent nudge this event is the first follow-up of
    watches_open: bool  # an open watch of the rules to stop
    nudges_waiting: bool  # a waiting nudge of the rules to stop
    cart_open: bool  # an open cart sequence (a message or call pauses it)
    may_acknowledge: bool  # the after-hours rule may answer this message
    store_id: int | None  # the store after_hours._store_for picks (when answerable)


def outstanding(
    event, *, field: str, stop: tuple[str, ...] | None, answerable: bool
) -> Outstanding | None:
    """What `event`, a follow-up of kind `field` ("replied_at", "ordered_at",
    "opted_out_at"), may change: attribution, stopping `stop`'s rules (None: all), the
    cart pause and, when `answerable` (an inbound text the after-hours rule answers, not
    replayed), the after-hours acknowledgement. None when the event's conversation no
    longer exists."""
    at = event.occurred_at
    now = timezone.now()
    data = event.data if isinstance(event.data, dict) else {}
    with statements.cursor() as cursor:  # prepared: planned once per connection
        cursor.execute(
            _OUTSTANDING_SQL,
            {
                "conversation": event.conversation_id,
                "at": at,
                "since": at - timedelta(days=settings.ENGAGEMENT_ATTRIBUTION_DAYS),
                "field": field,
                "stop": list(stop) if stop is not None else None,
                "answerable": answerable,
                "to": (data.get("to") or None) if event.channel == "sms" else None,
                "cart": cart_abandoned.RULE.slug,
                "ack": after_hours.RULE.slug,
                "acknowledged_since": now - ACKNOWLEDGED_LOOKBACK,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    customer_id, merged_into, attribute, watches_open, waiting, cart_open = row[:6]
    enabled, keys, store_id, time_zone, business_hours = row[6:]
    may_acknowledge = answerable and _may_acknowledge(
        customer_id,
        merged=merged_into is not None,
        enabled=enabled,
        keys=keys or [],
        store=None
        if store_id is None
        else Store(pk=store_id, time_zone=time_zone, business_hours=business_hours),
        now=now,
    )
    return Outstanding(
        customer_id=customer_id,
        attribute=attribute,
        watches_open=watches_open,
        nudges_waiting=waiting,
        cart_open=bool(cart_open),
        may_acknowledge=may_acknowledge,
        store_id=store_id,
    )


def _may_acknowledge(
    customer_id: int, *, merged: bool, enabled: bool | None, keys: list[str], store, now: datetime
) -> bool:
    if merged or enabled is None:
        return True  # a merge to follow, or a config to create: the rule knows
    if not enabled or store is None:
        return False
    opens = after_hours.next_opening(store, now)
    if opens is None:
        return False  # open now, or no hours
    return after_hours.acknowledgement_key(customer_id, opens) not in keys
