"""The facts the figures aggregate, kept up to date event by event (docs/insights.md).

The figures must cost about a plain `COUNT(*)` of the journal however long it grows, so
what needs a pass over ordered events (contacts, replies, journeys) is worked out once:

- `on_event` (a THROUGHLINE_EVENT_REACTIONS reaction, off the request path) updates the
  facts an event changes with a few indexed statements: an inbound need starts or extends
  a `Contact` of its case (and its `CaseFact`; the common follow-up in one statement,
  `_FOLLOW_UP_SQL`, the rest under the case's lock), an outbound message becomes a
  `SentMessage`, an inbound message answers the latest one on its channel, an order or a
  case turning hot stores the `Journey` before it, and any event of a case refreshes the
  copy of the case's columns on its `CaseFact`;
- `rebuild()` recomputes every fact from the journal in set-based SQL (window functions),
  for a new installation, after `seed_journeys`, or to check the live facts
  (`manage.py rebuild_insights`). The two agree: tests hold them to it.
"""

from __future__ import annotations

from django.db import connection, transaction

from conversations import merges, statements
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

FACT_TABLES = (
    "insights_contact",
    "insights_casefact",
    "insights_sentmessage",
    "insights_journey",
    "insights_channelused",
)
# Every fact from the events that {events} (on `e`, or `o` in the journeys) keeps, and the
# case facts of the cases that {cases} (on `c`) keeps: rebuild() keeps all of them,
# add_conversations() those of new conversations only.
_FACTS_SQL = [
    """INSERT INTO insights_channelused (conversation_id, channel)
    SELECT DISTINCT e.conversation_id, e.channel FROM conversations_event e
    WHERE e.direction = 'in' AND {events}""",
    f"""INSERT INTO insights_contact (case_id, number, channel, prev_channel, seq, started_at,
        last_at)
    WITH need AS (
        SELECT e.case_id, e.seq, e.channel, e.occurred_at,
            lag(e.channel) OVER w AS prev_channel, lag(e.occurred_at) OVER w AS prev_at
        FROM conversations_event e
        WHERE e.case_id IS NOT NULL AND e.direction = 'in' AND e.kind IN {NEED_KINDS}
            AND {{events}}
        WINDOW w AS (PARTITION BY e.case_id ORDER BY e.seq)
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
    WHERE {cases}
    GROUP BY k.case_id, c.id""",
    """INSERT INTO insights_sentmessage (event_id, conversation_id, channel, sent_at, replied_at)
    SELECT id, conversation_id, channel, occurred_at,
        CASE WHEN next_direction = 'in' AND next_at - occurred_at <= %(reply_window)s
            THEN next_at END
    FROM (
        SELECT e.id, e.conversation_id, e.channel, e.direction, e.occurred_at,
            lead(e.direction) OVER w AS next_direction, lead(e.occurred_at) OVER w AS next_at
        FROM conversations_event e WHERE e.kind = 'message' AND {events}
        WINDOW w AS (PARTITION BY e.conversation_id, e.channel ORDER BY e.seq)
    ) m WHERE direction = 'out'""",
    _JOURNEYS_SQL.replace("{where}", "{journeys}"),
]


def rebuild() -> None:
    """Recompute every fact from the journal (minutes on a very large journal)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for table in FACT_TABLES:
            # DELETE, not TRUNCATE: it runs inside callers' transactions (tests)
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (no input in the SQL)
        _derive(cursor, events="true", cases="true", journeys="true", params={})


def add_conversations(conversations: str, *, first_event: int) -> None:
    """The facts of new conversations, written around the event hooks (insights' seed):
    `conversations` is a query of their ids; they have no facts yet, and all their events
    have ids from `first_event` on. The statements of rebuild(), over those events only,
    so a seed's batch costs the same however long the journal already is (the bound on
    the id reads only the newest partition, ADR 0009)."""
    events = f"{{e}}.conversation_id IN ({conversations}) AND {{e}}.id >= %(first_event)s"
    with transaction.atomic(), connection.cursor() as cursor:
        _derive(
            cursor,
            events=events.format(e="e"),
            cases=f"c.conversation_id IN ({conversations})",
            journeys=events.format(e="o"),
            params={"first_event": first_event},
        )


def _derive(cursor, *, events: str, cases: str, journeys: str, params: dict) -> None:
    params = {**params, "gap": CONTACT_GAP, "reply_window": REPLY_WINDOW}
    for sql in _FACTS_SQL:
        sql = sql.replace("{events}", events).replace("{cases}", cases)
        sql = sql.replace("{journeys}", journeys)
        cursor.execute(sql, params if "%(" in sql else None)


# The statements below run for nearly every event, so they are prepared (ADR 0004:
# planned once per connection) and an inbound need of a case, the common follow-up, does
# all its work in one of them (_FOLLOW_UP_SQL; or, when that declines, after the case's
# lock in _NEED_OF_A_CASE_SQL).

# A channel seen before is only read: no insert attempt, so no sequence value drawn.
_CHANNEL_USED = """INSERT INTO insights_channelused (conversation_id, channel)
    SELECT %(conversation)s::bigint, %(channel)s::varchar WHERE NOT EXISTS (
        SELECT 1 FROM insights_channelused
        WHERE conversation_id = %(conversation)s AND channel = %(channel)s)
    ON CONFLICT (conversation_id, channel) DO NOTHING"""
# The customer's message answers our latest message on its channel, if recent and not
# answered earlier (the earliest reply wins, in whatever order reactions run).
_ANSWER = """UPDATE insights_sentmessage SET replied_at = %(at)s
    WHERE %(message)s AND event_id = (
        SELECT event_id FROM insights_sentmessage
        WHERE conversation_id = %(conversation)s AND channel = %(channel)s
            AND sent_at <= %(at)s
        ORDER BY sent_at DESC LIMIT 1
    ) AND (replied_at IS NULL OR replied_at > %(at)s) AND sent_at >= %(reply_from)s"""
# The case's columns the figures read, copied onto its fact.
_COPY_CASE = """UPDATE insights_casefact f SET conversation_id = c.conversation_id,
    status = c.status, intent = c.intent, team_id = c.team_id, opened_at = c.opened_at,
    first_response_at = c.first_response_at, resolved_at = c.resolved_at
    FROM conversations_case c
    WHERE c.id = f.case_id AND f.case_id = %(case)s AND (f.status, f.intent, f.team_id,
        f.first_response_at, f.resolved_at, f.conversation_id) IS DISTINCT FROM (c.status,
        c.intent, c.team_id, c.first_response_at, c.resolved_at, c.conversation_id)"""
# An inbound need of a case, under the case's lock: the channel, the answer, the copy of
# the case, and the case's last contact, extended when the need continues it (same
# channel, within CONTACT_GAP, later than what it has seen); _count_contact reads the
# returned contact for the rest (seen already, or a new contact).
_NEED_OF_A_CASE_SQL = f"""
WITH used AS ({_CHANNEL_USED} RETURNING 1),
answered AS ({_ANSWER} RETURNING 1),
copied AS ({_COPY_CASE} RETURNING 1),
last AS (
    SELECT id, number, channel, seq, last_at FROM insights_contact
    WHERE case_id = %(case)s ORDER BY number DESC LIMIT 1
), extended AS (
    UPDATE insights_contact k SET last_at = %(at)s FROM last
    WHERE k.id = last.id AND last.seq < %(seq)s AND last.channel = %(channel)s
        AND last.last_at >= %(contact_from)s AND k.last_at < %(at)s
    RETURNING 1
)
SELECT last.id, last.number, last.channel, last.seq, last.last_at
FROM (SELECT 1) one LEFT JOIN last ON true
"""  # noqa: S608 (no input in the SQL)
_CASE_LOCK = "SELECT 1 FROM conversations_case WHERE id = %(case)s FOR NO KEY UPDATE"

# The common follow-up (a need that continues the case's last contact, or one seen
# already) in ONE statement, in autocommit: one round trip where the locked path makes
# four (BEGIN, the lock, _NEED_OF_A_CASE_SQL, COMMIT). Its first step takes the locked
# path's locks, the case row then its fact row (`locked`, referenced by the main query,
# so it runs before the writes: the same order as the locked path, case first). But a
# statement's snapshot is taken before it waits for a lock, so `last` may miss a contact
# another hook created meanwhile. That hook also moved the fact's `contacts` (every new
# contact does, in its transaction), and a row lock reads the newest version of a row
# updated since the snapshot: `current` (the locked count is the last contact's number)
# says the snapshot saw the last contact, and the extension is made only then. The case's
# columns are copied from the locked row for the same reason. Anything else (no fact
# yet, not current, a new contact to start) is declined to the locked path, which does it
# all again (the other writes are idempotent).
_FOLLOW_UP_SQL = f"""
WITH locked AS (
    SELECT f.contacts, c.conversation_id, c.status, c.intent, c.team_id, c.opened_at,
        c.first_response_at, c.resolved_at
    FROM conversations_case c JOIN insights_casefact f ON f.case_id = c.id
    WHERE c.id = %(case)s
    FOR NO KEY UPDATE OF c, f
),
last AS (
    SELECT id, number, channel, seq, last_at FROM insights_contact
    WHERE case_id = %(case)s ORDER BY number DESC LIMIT 1
),
used AS ({_CHANNEL_USED} RETURNING 1),
answered AS ({_ANSWER} RETURNING 1),
copied AS (
    UPDATE insights_casefact f SET conversation_id = l.conversation_id, status = l.status,
        intent = l.intent, team_id = l.team_id, opened_at = l.opened_at,
        first_response_at = l.first_response_at, resolved_at = l.resolved_at
    FROM locked l
    WHERE f.case_id = %(case)s AND (f.status, f.intent, f.team_id, f.first_response_at,
        f.resolved_at, f.conversation_id) IS DISTINCT FROM (l.status, l.intent, l.team_id,
        l.first_response_at, l.resolved_at, l.conversation_id)
    RETURNING 1
), extended AS (
    UPDATE insights_contact k SET last_at = %(at)s FROM last, locked l
    WHERE k.id = last.id AND l.contacts = last.number AND last.seq < %(seq)s
        AND last.channel = %(channel)s AND last.last_at >= %(contact_from)s
        AND k.last_at < %(at)s
    RETURNING 1
)
SELECT coalesce(l.contacts = last.number, false), last.seq, last.channel, last.last_at
FROM (SELECT 1) one LEFT JOIN locked l ON true LEFT JOIN last ON true
"""  # noqa: S608 (no input in the SQL)
_SENT = """INSERT INTO insights_sentmessage (event_id, conversation_id, channel, sent_at)
    VALUES (%(event)s, %(conversation)s, %(channel)s, %(at)s)
    ON CONFLICT (event_id) DO NOTHING"""
NEEDS = ("message", "call", "voicemail")  # figures.NEED_KINDS


def on_event(event: Event) -> None:
    """Update the facts this event changes (see the module docstring)."""
    data = event.data if isinstance(event.data, dict) else {}
    inbound = event.direction == Event.Direction.IN
    at = event.occurred_at
    params = {
        "conversation": event.conversation_id,
        "channel": event.channel,
        "message": inbound and event.kind == "message",
        "at": at,
        "reply_from": at - REPLY_WINDOW,
        "case": event.case_id,
    }
    if inbound and event.kind in NEEDS and event.case_id is not None:
        _count_contact(event, params)  # and the rest, in the same statement
        return
    with statements.cursor() as cursor:  # prepared: planned once per connection
        if inbound:
            cursor.execute(_CHANNEL_USED, params)
            if event.kind == "message":
                cursor.execute(_ANSWER, params)
        elif event.kind == "message" and event.direction == Event.Direction.OUT:
            cursor.execute(_SENT, params | {"event": event.pk})
        if event.kind == "order" or (event.kind == "routing" and data.get("action") == "hot"):
            cursor.execute(_JOURNEYS_SQL.replace("{where}", "o.id = %s"), [event.pk])
        # Any event of a case may follow a change to it (answered, assigned, resolved, its
        # intent set): the verbs that change a case write an event in it.
        case_id = event.case_id or data.get("case")
        if isinstance(case_id, int):
            cursor.execute(_COPY_CASE, {"case": case_id})


def _count_contact(event: Event, params: dict) -> None:
    contact_from = event.occurred_at - CONTACT_GAP  # within the gap: the same contact
    params = params | {"seq": event.seq, "contact_from": contact_from}
    with statements.cursor() as cursor:
        cursor.execute(_FOLLOW_UP_SQL, params)
        current, seq, channel, last_at = cursor.fetchone()
    if current and (event.seq <= seq or (channel == event.channel and last_at >= contact_from)):
        return  # seen already, or the statement extended it
    _count_contact_under_lock(event, params)


def _count_contact_under_lock(event: Event, params: dict) -> None:
    """The locked path: every need of a case can take it, and what _FOLLOW_UP_SQL
    declines does (a case's first need, a new contact, a contact created meanwhile)."""
    with transaction.atomic(), statements.cursor() as cursor:
        # The case row lock orders the hooks of one case's events (they run after commit,
        # possibly at once in several workers), so each sees the contact before it: the
        # next statement's snapshot is taken once the lock is held.
        cursor.execute(_CASE_LOCK, params)
        cursor.execute(_NEED_OF_A_CASE_SQL, params)
        last_id, number, channel, seq, last_at = cursor.fetchone()
        if last_id is not None and event.seq <= seq:
            return  # seen already
        if last_id is not None and channel == event.channel and last_at >= params["contact_from"]:
            return  # the statement extended it
        _new_contact(event, previous=None if last_id is None else (number, channel))


def _new_contact(event: Event, *, previous: tuple[int, str] | None) -> None:
    """The case's next contact, started by this need, and the case's fact counting it."""
    number = previous[0] + 1 if previous else 1
    Contact.objects.create(
        case_id=event.case_id,
        number=number,
        channel=event.channel,
        prev_channel=previous[1] if previous else "",
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


def move_to_survivor(survivor: Customer, merged: Customer) -> None:
    """A merge hook: the merged conversation's facts follow its events to the survivor's."""
    old = Conversation.objects.filter(customer=merged).values_list("pk", flat=True).first()
    new = Conversation.objects.filter(customer=survivor).values_list("pk", flat=True).first()
    if old is None or new is None:
        return
    merge = merges.in_progress(survivor, merged)  # provenance: an unmerge undoes all this
    with connection.cursor() as cursor:
        # The channels the merged conversation used join the survivor's (recorded as added
        # where new to it), then leave the merged one (recorded whole).
        cursor.execute(
            f"""WITH added AS (
                INSERT INTO insights_channelused (conversation_id, channel)
                SELECT %(new)s, channel FROM insights_channelused WHERE conversation_id = %(old)s
                ON CONFLICT (conversation_id, channel) DO NOTHING
                RETURNING id, jsonb_build_object('conversation_id', conversation_id,
                    'channel', channel) AS new
            )
            {merges.RECORD}
            SELECT %(merge)s, 'insights_channelused', id, 'added', '', %(customer)s, NULL, NULL,
                NULL, new
            FROM added""",  # noqa: S608
            {"new": new, "old": old, "merge": merge.pk, "customer": survivor.pk},
        )
    merges.remove_rows(merge, "insights_channelused", "conversation_id", value=old)
    for table in ("insights_sentmessage", "insights_journey", "insights_casefact"):
        merges.move_rows(merge, table, "conversation_id", from_value=old, to_value=new)
