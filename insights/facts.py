"""The facts the figures aggregate, kept up to date event by event (docs/insights.md).

The figures must cost about a plain `COUNT(*)` of the journal however long it grows, so
what needs a pass over ordered events (contacts, replies, journeys) is worked out once:

- `on_event` (a THROUGHLINE_EVENT_REACTIONS reaction, off the request path) updates the
  facts an event changes with a few indexed statements: an inbound need starts or extends
  a `Contact` of its case (and its `CaseFact`), an outbound message becomes a
  `SentMessage`, an inbound message answers the latest one on its channel, an order or a
  case turning hot stores the `Journey` before it, and any event of a case refreshes the
  copy of the case's columns on its `CaseFact`;
- `rebuild()` recomputes every fact from the journal in set-based SQL (window functions),
  for a new installation, after `seed_journeys`, or to check the live facts
  (`manage.py rebuild_insights`). The two agree: tests hold them to it.
"""

from __future__ import annotations

from django.db import connection, transaction

from conversations.models import Case, Conversation, Customer, Event

from .figures import CONTACT_GAP, NEED_KINDS, REPLY_WINDOW
from .models import CaseFact, Contact

# A touchpoint's name in a journey; NULL for events that are not one (agents' replies,
# internal bookkeeping, suppressed nudges).
TOUCHPOINT = """CASE
    WHEN e.kind IN ('page_view', 'product_view') THEN 'web visit'
    WHEN e.kind IN ('cart', 'checkout') THEN e.kind
    WHEN e.kind = 'scan' THEN 'store scan'
    WHEN e.kind = 'nudge' AND e.data->>'status' = 'sent' THEN 'nudge'
    WHEN e.kind IN ('message', 'call', 'voicemail') AND e.direction = 'in'
        THEN e.channel || ' ' || e.kind
END"""
JOURNEY_STEPS = 5  # touchpoints kept before the end, consecutive repeats folded
JOURNEY_LOOKBACK = 40  # events looked at before the end
_ENDS = """(o.kind = 'order' OR (o.kind = 'routing' AND o.data->>'action' = 'hot'))"""

_JOURNEYS_SQL = f"""
INSERT INTO insights_journey (event_id, conversation_id, ends_with, path, occurred_at)
SELECT o.id, o.conversation_id, CASE WHEN o.kind = 'order' THEN 'order' ELSE 'hot' END,
    left(coalesce(string_agg(t.label, ' → ' ORDER BY t.seq), '(nothing before)'), 400),
    o.occurred_at
FROM conversations_event o
LEFT JOIN LATERAL (
    SELECT seq, label FROM (
        SELECT seq, label, lag(label) OVER (ORDER BY seq) AS prev FROM (
            SELECT e.seq, {TOUCHPOINT} AS label
            FROM conversations_event e
            WHERE e.conversation_id = o.conversation_id AND e.seq < o.seq
                AND e.seq >= o.seq - {JOURNEY_LOOKBACK}
        ) recent WHERE label IS NOT NULL
    ) folded WHERE prev IS DISTINCT FROM label
    ORDER BY seq DESC LIMIT {JOURNEY_STEPS}
) t ON true
WHERE {_ENDS} AND {{where}}
GROUP BY o.id
ON CONFLICT (event_id) DO NOTHING
"""  # noqa: S608 (no input in the SQL)

_REBUILD_SQL = [
    # DELETE, not TRUNCATE: it runs inside callers' transactions (seed_journeys, tests)
    "DELETE FROM insights_contact",
    "DELETE FROM insights_casefact",
    "DELETE FROM insights_sentmessage",
    "DELETE FROM insights_journey",
    "DELETE FROM insights_channelused",
    """INSERT INTO insights_channelused (conversation_id, channel)
    SELECT DISTINCT conversation_id, channel FROM conversations_event WHERE direction = 'in'""",
    f"""INSERT INTO insights_contact (case_id, number, channel, prev_channel, seq, started_at,
        last_at)
    WITH need AS (
        SELECT case_id, seq, channel, occurred_at,
            lag(channel) OVER w AS prev_channel, lag(occurred_at) OVER w AS prev_at
        FROM conversations_event
        WHERE case_id IS NOT NULL AND direction = 'in' AND kind IN {NEED_KINDS}
        WINDOW w AS (PARTITION BY case_id ORDER BY seq)
    ), marked AS (
        SELECT *, (prev_channel IS NULL OR prev_channel <> channel
            OR occurred_at - prev_at > %(gap)s) AS starts
        FROM need
    ), numbered AS (
        SELECT *, sum(starts::int) OVER (PARTITION BY case_id ORDER BY seq) AS number
        FROM marked
    )
    SELECT case_id, number, min(channel),
        coalesce(min(prev_channel) FILTER (WHERE starts), ''), min(seq), min(occurred_at),
        max(occurred_at)
    FROM numbered GROUP BY case_id, number""",  # noqa: S608 (no input in the SQL)
    """INSERT INTO insights_casefact (case_id, contacts, first_channel, last_channel,
        channel_contacts, conversation_id, status, intent, team_id, opened_at,
        first_response_at, resolved_at)
    SELECT k.case_id, count(*), (array_agg(k.channel ORDER BY k.number))[1],
        (array_agg(k.channel ORDER BY k.number DESC))[1],
        (SELECT jsonb_object_agg(channel, n) FROM (
            SELECT channel, count(*) AS n FROM insights_contact x
            WHERE x.case_id = k.case_id GROUP BY channel) per_channel),
        c.conversation_id, c.status, c.intent, c.team_id, c.opened_at, c.first_response_at,
        c.resolved_at
    FROM insights_contact k JOIN conversations_case c ON c.id = k.case_id
    GROUP BY k.case_id, c.id""",
    """INSERT INTO insights_sentmessage (event_id, conversation_id, channel, sent_at, replied_at)
    SELECT id, conversation_id, channel, occurred_at,
        CASE WHEN next_direction = 'in' AND next_at - occurred_at <= %(reply_window)s
            THEN next_at END
    FROM (
        SELECT id, conversation_id, channel, direction, occurred_at,
            lead(direction) OVER w AS next_direction, lead(occurred_at) OVER w AS next_at
        FROM conversations_event WHERE kind = 'message'
        WINDOW w AS (PARTITION BY conversation_id, channel ORDER BY seq)
    ) m WHERE direction = 'out'""",
    _JOURNEYS_SQL.replace("{where}", "true"),
]


def rebuild() -> None:
    """Recompute every fact from the journal (minutes on a very large journal)."""
    params = {"gap": CONTACT_GAP, "reply_window": REPLY_WINDOW}
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in _REBUILD_SQL:
            cursor.execute(sql, params if "%(" in sql else None)


# The case's columns the figures read, copied onto its fact.
_COPY_CASE_SQL = """
UPDATE insights_casefact f SET conversation_id = c.conversation_id, status = c.status,
    intent = c.intent, team_id = c.team_id, opened_at = c.opened_at,
    first_response_at = c.first_response_at, resolved_at = c.resolved_at
FROM conversations_case c
WHERE c.id = f.case_id AND f.case_id = %s AND (f.status, f.intent, f.team_id,
    f.first_response_at, f.resolved_at, f.conversation_id) IS DISTINCT FROM (c.status,
    c.intent, c.team_id, c.first_response_at, c.resolved_at, c.conversation_id)
"""


def on_event(event: Event) -> None:
    """Update the facts this event changes (see the module docstring)."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.direction == Event.Direction.IN:
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO insights_channelused (conversation_id, channel) VALUES (%s, %s)
                ON CONFLICT (conversation_id, channel) DO NOTHING""",
                [event.conversation_id, event.channel],
            )
    if event.kind in ("message", "call", "voicemail") and event.direction == Event.Direction.IN:
        if event.case_id is not None:
            _count_contact(event)
        if event.kind == "message":
            _answer(event)
    elif event.kind == "message" and event.direction == Event.Direction.OUT:
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO insights_sentmessage (event_id, conversation_id, channel, sent_at)
                VALUES (%s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING""",
                [event.pk, event.conversation_id, event.channel, event.occurred_at],
            )
    if event.kind == "order" or (event.kind == "routing" and data.get("action") == "hot"):
        with connection.cursor() as cursor:
            cursor.execute(_JOURNEYS_SQL.replace("{where}", "o.id = %s"), [event.pk])
    # Any event of a case may follow a change to it (answered, assigned, resolved, its
    # intent set): the verbs that change a case write an event in it.
    case_id = event.case_id or data.get("case")
    if isinstance(case_id, int):
        with connection.cursor() as cursor:
            cursor.execute(_COPY_CASE_SQL, [case_id])


def _count_contact(event: Event) -> None:
    with transaction.atomic():
        # The case row lock orders the hooks of one case's events (they run after commit,
        # possibly at once in several workers), so each sees the contact before it.
        Case.objects.select_for_update(no_key=True).filter(pk=event.case_id).first()
        last = Contact.objects.filter(case_id=event.case_id).order_by("-number").first()
        if last is not None and event.seq <= last.seq:
            return  # seen already
        if (
            last is not None
            and last.channel == event.channel
            and event.occurred_at - last.last_at <= CONTACT_GAP
        ):
            Contact.objects.filter(pk=last.pk, last_at__lt=event.occurred_at).update(
                last_at=event.occurred_at
            )
            return
        number = last.number + 1 if last else 1
        Contact.objects.create(
            case_id=event.case_id,
            number=number,
            channel=event.channel,
            prev_channel=last.channel if last else "",
            seq=event.seq,
            started_at=event.occurred_at,
            last_at=event.occurred_at,
        )
        fact = CaseFact.objects.filter(case_id=event.case_id).first()
        if fact is None:
            case = Case.objects.get(pk=event.case_id)
            CaseFact.objects.create(
                case_id=event.case_id,
                contacts=number,
                first_channel=event.channel,
                last_channel=event.channel,
                channel_contacts={event.channel: 1},
                conversation_id=case.conversation_id,
                status=case.status,
                intent=case.intent,
                team_id=case.team_id,
                opened_at=case.opened_at,
                first_response_at=case.first_response_at,
                resolved_at=case.resolved_at,
            )
        else:
            per_channel = dict(fact.channel_contacts)
            per_channel[event.channel] = per_channel.get(event.channel, 0) + 1
            CaseFact.objects.filter(pk=fact.pk).update(
                contacts=number, last_channel=event.channel, channel_contacts=per_channel
            )


def _answer(event: Event) -> None:
    """The customer's message answers our latest message on its channel, if recent and
    not answered earlier (the earliest reply wins, in whatever order reactions run)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE insights_sentmessage SET replied_at = %(at)s
            WHERE event_id = (
                SELECT event_id FROM insights_sentmessage
                WHERE conversation_id = %(conversation)s AND channel = %(channel)s
                    AND sent_at <= %(at)s
                ORDER BY sent_at DESC LIMIT 1
            ) AND (replied_at IS NULL OR replied_at > %(at)s)
                AND sent_at >= %(at)s::timestamptz - %(window)s""",
            {
                "at": event.occurred_at,
                "conversation": event.conversation_id,
                "channel": event.channel,
                "window": REPLY_WINDOW,
            },
        )


def move_to_survivor(survivor: Customer, merged: Customer) -> None:
    """A merge hook: the merged conversation's facts follow its events to the survivor's."""
    old = Conversation.objects.filter(customer=merged).values_list("pk", flat=True).first()
    new = Conversation.objects.filter(customer=survivor).values_list("pk", flat=True).first()
    if old is None or new is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO insights_channelused (conversation_id, channel)
            SELECT %s, channel FROM insights_channelused WHERE conversation_id = %s
            ON CONFLICT (conversation_id, channel) DO NOTHING""",
            [new, old],
        )
        cursor.execute("DELETE FROM insights_channelused WHERE conversation_id = %s", [old])
        for table in ("insights_sentmessage", "insights_journey", "insights_casefact"):
            cursor.execute(
                f"UPDATE {table} SET conversation_id = %s WHERE conversation_id = %s",  # noqa: S608
                [new, old],
            )
