"""The insights figures: one SQL statement each, over indexed columns (docs/insights.md).

Every function takes `Filters` and returns a `Figure` (columns and rows, ready for a
chart and a CSV). None loops over events in Python, and none reads the journal itself:
PostgreSQL aggregates the facts that facts.py keeps event by event (contacts, case facts,
sent messages, journeys), joined to the cases, nudges and scans by indexed columns. So a
figure costs a fraction of a plain `COUNT(*)` of the events (bench/insights.py).

Definitions, the same in every figure:

- A **contact** is an inbound message, call or voicemail that starts a new exchange in a
  case: the case's first, one on another channel than the previous inbound, or one more
  than CONTACT_GAP after it. Three texts in a row are one contact; an unanswered chat and
  then a phone call are two.
- **True first-contact resolution**: resolved cases that needed exactly one contact across
  all channels. **Naive** (per channel): the same cases counted per channel, as an
  isolated tool would see them — each channel's thread resolved on its first contact if it
  had one contact on that channel.
- The **resolving channel** of a case is the channel of its last contact; its **first
  channel**, that of its first.
- A **channel switch** is a contact on another channel than the previous contact of the
  same case (web, web, SMS, SMS is one switch, web → SMS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import connections, transaction

from .filters import Filters
from .routers import insights_database

# Inbound events on the same channel closer than this are one contact.
CONTACT_GAP = timedelta(minutes=30)
# An outbound message is answered when the customer's next message, on the same channel,
# comes within this long.
REPLY_WINDOW = timedelta(hours=24)
NEED_KINDS = "('message', 'call', 'voicemail')"


@dataclass
class Figure:
    key: str
    title: str
    columns: list[str]
    rows: list[tuple]
    note: str = ""
    # how the page draws it: "bars" (label column + value columns), "matrix", "table"
    chart: str = "table"
    bars: list[int] = field(default_factory=list)  # the value columns a bar chart draws

    def as_dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _fetch(sql: str, params: dict) -> list[tuple]:
    # on the read replica when one is configured (docs/scaling.md)
    alias = insights_database()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        # Aggregates over a period's cases fit in memory with this much; the server's
        # default (4 MB) makes them sort on disk. For this statement only.
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.INSIGHTS_WORK_MEM])
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def _cases(filters: Filters) -> str:
    """The CTE `scope`: the facts of cases opened in the period (a copy of the case's
    columns rides on each, facts.py), narrowed by team, intent, channel (a contact on it),
    persona and store. One table, no join."""
    where = ["f.opened_at >= %(start)s", "f.opened_at < %(end)s"]
    if filters.team is not None:
        where.append("f.team_id = %(team)s")
    if filters.intent:
        where.append("f.intent = %(intent)s")
    if filters.channel:
        where.append("f.channel_contacts ? %(channel)s")
    customers = filters.conversations("f.conversation_id")
    # NOT MATERIALIZED: inlined where it is used, the planner sees its real size
    return f"""WITH scope AS NOT MATERIALIZED (
        SELECT f.case_id AS id, f.intent, f.team_id, f.status, f.opened_at,
            f.first_response_at, f.resolved_at, f.contacts, f.first_channel, f.last_channel,
            f.channel_contacts
        FROM insights_casefact f
        WHERE {" AND ".join(where)}{customers}
    )"""  # noqa: S608


# Durations use date_part('epoch', …), a float: extract() gives numeric (PostgreSQL 14+),
# many times slower to sort for the percentiles.


def _percentile(fractions: str, values: str) -> str:
    """percentile_cont of one group's values, gathered by array_agg.

    A percentile per group as `percentile_cont(…) WITHIN GROUP … GROUP BY` makes PostgreSQL
    sort every case of the period by its group first (an ordered-set aggregate cannot be
    hashed): whole rows, 57 MB at 4M events, past INSIGHTS_WORK_MEM and onto disk soon
    after. Grouped by hashing instead (a handful of groups), each group's durations are
    an array of floats, and only they are sorted, group by group."""
    order = f"WITHIN GROUP (ORDER BY v) FROM unnest({values}) v"
    return f"(SELECT percentile_cont({fractions}) {order})"


def _params(filters: Filters) -> dict:
    return {**filters.params(), "gap": CONTACT_GAP, "reply_window": REPLY_WINDOW}


# The channels a contact can come in on (inbound messages and calls).
CONTACT_CHANNELS = ("web", "sms", "whatsapp", "voice", "email")


def first_contact_resolution(filters: Filters) -> Figure:
    # one pass: the true figure, and per channel the naive one (its thread alone)
    naive = ",\n        ".join(
        f"count(*) FILTER (WHERE s.channel_contacts ? '{ch}'),"
        f" count(*) FILTER (WHERE s.channel_contacts->>'{ch}' = '1')"
        for ch in CONTACT_CHANNELS
    )
    sql = f"""{_cases(filters)}
    SELECT count(*), count(*) FILTER (WHERE s.contacts = 1),
        {naive}
    FROM scope s WHERE s.status = 'resolved'"""  # noqa: S608 (channels are constants)
    [row] = _fetch(sql, _params(filters))
    rows = [("all channels (true)", row[0], row[1], _percent(row[1], row[0]))]
    for n, channel in enumerate(CONTACT_CHANNELS):
        resolved, first = row[2 + 2 * n], row[3 + 2 * n]
        if resolved:
            rows.append((f"{channel} (naive)", resolved, first, _percent(first, resolved)))
    rows[1:] = sorted(rows[1:])
    return Figure(
        "fcr",
        "First-contact resolution: true (across channels) vs naive (per channel)",
        ["measure", "resolved cases", "resolved on first contact", "rate %"],
        rows,
        note="The naive rows count each channel's thread alone, as a single-channel tool "
        "does; the gap to the true figure is the contacts those tools cannot see.",
        chart="bars",
        bars=[3],
    )


def contacts_per_resolution(filters: Filters) -> Figure:
    sql = f"""{_cases(filters)}
    SELECT g.intent, g.last_channel, g.resolved, round(g.contacts, 2),
        round(({_percentile("0.5", "g.seconds")} / 3600)::numeric, 2),
        round((g.mean_seconds / 3600)::numeric, 2)
    FROM (
        SELECT coalesce(nullif(s.intent, ''), '(no intent)') AS intent, s.last_channel,
            count(*) AS resolved, avg(s.contacts) AS contacts,
            array_agg(date_part('epoch', s.resolved_at - s.opened_at)) AS seconds,
            avg(date_part('epoch', s.resolved_at - s.opened_at)) AS mean_seconds
        FROM scope s
        WHERE s.status = 'resolved' AND s.resolved_at IS NOT NULL
        GROUP BY 1, 2
    ) g ORDER BY 1, 2"""  # noqa: S608 (no input in the SQL)
    rows = _fetch(sql, _params(filters))
    return Figure(
        "contacts",
        "Contacts per resolution and time to resolution, by intent and resolving channel",
        [
            "intent",
            "resolving channel",
            "resolved cases",
            "contacts per resolution",
            "median hours to resolve",
            "mean hours to resolve",
        ],
        [(i, c, n, float(k), float(m), float(a)) for i, c, n, k, m, a in rows],
        chart="bars",
        bars=[3],
    )


def channel_switching(filters: Filters) -> Figure:
    sql = f"""{_cases(filters)}
    SELECT k.prev_channel, k.channel, count(*)
    FROM insights_contact k JOIN scope s ON s.id = k.case_id
    WHERE k.prev_channel <> '' AND k.prev_channel <> k.channel
        AND s.contacts > 1 AND s.channel_contacts::text LIKE '%%,%%'
    GROUP BY 1, 2 ORDER BY 1, 2"""  # noqa: S608 (no input in the SQL)
    return Figure(
        "switching",
        "Channel switches within a case (from → to)",
        ["from channel", "to channel", "switches"],
        _fetch(sql, _params(filters)),
        chart="matrix",
    )


def preferred_channels(filters: Filters) -> Figure:
    """Per channel: cases whose first contact was on it, and the reply rate to our messages."""
    first = f"""{_cases(filters)}
    SELECT first_channel, count(*) FROM scope GROUP BY 1"""  # noqa: S608 (no input in the SQL)
    channel = " AND m.channel = %(channel)s" if filters.channel else ""
    replies = f"""SELECT m.channel, count(*), count(m.replied_at)
    FROM insights_sentmessage m
    WHERE m.sent_at >= %(start)s AND m.sent_at < %(end)s{channel}
        {filters.conversations("m.conversation_id")}
    GROUP BY m.channel"""  # noqa: S608 (no input in the SQL)
    params = _params(filters)
    firsts = dict(_fetch(first, params))
    replied = {ch: (sent, answered) for ch, sent, answered in _fetch(replies, params)}
    rows = []
    for ch in sorted(set(firsts) | set(replied)):
        sent, answered = replied.get(ch, (0, 0))
        rows.append((ch, firsts.get(ch, 0), sent, answered, _percent(answered, sent)))
    return Figure(
        "preferred",
        "Preferred channels: first contact, and replies to our messages",
        ["channel", "cases started here", "messages sent", "replied", "reply rate %"],
        rows,
        chart="bars",
        bars=[1, 4],
    )


def response_times(filters: Filters) -> Figure:
    sql = f"""{_cases(filters)}
    SELECT g.team, g.first_channel, g.cases,
        {_percentile("ARRAY[0.5, 0.9]", "g.first_minutes")},
        {_percentile("ARRAY[0.5, 0.9]", "g.resolve_hours")}
    FROM (
        SELECT coalesce(t.name, '(no team)') AS team, s.first_channel, count(*) AS cases,
            array_agg(date_part('epoch', s.first_response_at - s.opened_at) / 60)
                FILTER (WHERE s.first_response_at IS NOT NULL) AS first_minutes,
            array_agg(date_part('epoch', s.resolved_at - s.opened_at) / 3600)
                FILTER (WHERE s.resolved_at IS NOT NULL) AS resolve_hours
        FROM scope s
        LEFT JOIN conversations_team t ON t.id = s.team_id
        GROUP BY 1, 2
    ) g ORDER BY 1, 2"""  # noqa: S608 (no input in the SQL)
    rows = []
    for team, channel, cases, first, resolve in _fetch(sql, _params(filters)):
        first, resolve = first or [None, None], resolve or [None, None]
        rows.append((team, channel, cases, *(_round(v) for v in [*first, *resolve])))
    return Figure(
        "response",
        "Response times by team and first channel",
        [
            "team",
            "channel",
            "cases",
            "first response p50 (min)",
            "first response p90 (min)",
            "resolution p50 (h)",
            "resolution p90 (h)",
        ],
        rows,
        chart="bars",
        bars=[3, 4],
    )


def journeys(filters: Filters, *, before: str = "order", top: int = 10) -> Figure:
    """The most common last touchpoints before an order (`before="order"`) or before a
    case turned hot (`before="hot"`), consecutive repeats folded (facts.py)."""
    channel = ""
    if filters.channel:
        # journeys that touched the channel (labels start with it: "sms message")
        channel = " AND j.path LIKE %(channel_label)s"
    sql = f"""SELECT j.path, count(*) FROM insights_journey j
    WHERE j.ends_with = %(before)s AND j.occurred_at >= %(start)s AND j.occurred_at < %(end)s
        {filters.conversations("j.conversation_id")}{channel}
    GROUP BY j.path ORDER BY count(*) DESC, j.path LIMIT {int(top)}"""  # noqa: S608 (no input in the SQL)
    end = "order" if before == "order" else "hot case"
    params = {**_params(filters), "before": before, "channel_label": f"%{filters.channel} %"}
    rows = [(f"{path} → {end}", n) for path, n in _fetch(sql, params)]
    return Figure(
        f"journeys_{before}",
        f"Most common journeys before {'an order' if before == 'order' else 'a hot case'}",
        ["journey", "count"],
        rows,
        chart="bars",
        bars=[1],
    )


def nudges(filters: Filters) -> Figure:
    if not apps.is_installed("engagement"):
        return Figure("nudges", "Nudges per rule", ["rule"], [], note="engagement is not installed")
    where = ["n.proposed_at >= %(start)s", "n.proposed_at < %(end)s"]
    if filters.channel:
        where.append("n.channel = %(channel)s")
    sql = f"""SELECT n.rule, count(*),
        count(*) FILTER (WHERE n.status = 'suppressed'),
        count(*) FILTER (WHERE n.status = 'sent'),
        count(*) FILTER (WHERE n.message_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM conversations_event m
            WHERE m.id = n.message_id AND m.delivery_status IN ('delivered', 'read'))),
        count(n.replied_at), count(n.ordered_at), count(n.opted_out_at)
    FROM engagement_nudge n
    WHERE {" AND ".join(where)}{filters.customers("n.customer_id")}
    GROUP BY n.rule ORDER BY n.rule"""  # noqa: S608 (no input in the SQL)
    return Figure(
        "nudges",
        "Nudges per rule: proposed, suppressed, sent, and what followed",
        [
            "rule",
            "proposed",
            "suppressed",
            "sent",
            "delivered",
            "replied",
            "ordered",
            "opted out after",
        ],
        _fetch(sql, _params(filters)),
        chart="bars",
        bars=[1, 3, 5, 6],
    )


def nudge_suppressions(filters: Filters) -> Figure:
    if not apps.is_installed("engagement"):
        return Figure("suppressions", "Suppressed nudges by reason", ["rule"], [])
    where = ["n.proposed_at >= %(start)s", "n.proposed_at < %(end)s", "n.status = 'suppressed'"]
    if filters.channel:
        where.append("n.channel = %(channel)s")
    # engagement's reasons read "hot case: …" or, per channel refused, "sms: preference: …;
    # web: no widget visitor": grouped by the first reason's words before its ":"
    sql = f"""SELECT n.rule,
        split_part(split_part(regexp_replace(n.reason, '^(sms|web): ', ''), ';', 1), ':', 1),
        count(*) FROM engagement_nudge n
    WHERE {" AND ".join(where)}{filters.customers("n.customer_id")}
    GROUP BY 1, 2 ORDER BY 1, 3 DESC"""  # noqa: S608 (no input in the SQL)
    return Figure(
        "suppressions",
        "Suppressed nudges by rule and reason",
        ["rule", "reason", "suppressed"],
        _fetch(sql, _params(filters)),
    )


def in_store(filters: Filters) -> Figure:
    where = ["s.scanned_at >= %(start)s", "s.scanned_at < %(end)s"]
    if filters.store is not None:
        where.append("s.store_id = %(store)s")
    persona = ""
    if filters.persona is not None:
        persona = """ AND s.customer_id IN (SELECT pm.customer_id FROM insights_personamember pm
            WHERE pm.persona_id = %(persona)s)"""
    sql = f"""SELECT st.name, coalesce(nullif(pl.label, ''), pl.code), p.name, count(*),
        -- did that customer ever come in online (facts.py keeps the channels used): a
        -- probe of channel_used_unique per scan, in each parallel worker. A join to the
        -- DISTINCT conversations of insights_channelused instead hashed all of them in
        -- every worker, on disk past INSIGHTS_WORK_MEM: 2/3 of the figure at 50M events.
        count(*) FILTER (WHERE EXISTS (SELECT FROM insights_channelused u
            WHERE u.conversation_id = cv.id
                AND u.channel IN ('web', 'api', 'sms', 'whatsapp', 'voice', 'email')))
    FROM instore_scan s
    -- the scan carries its customer (instore/models.py; merges and splits keep it): no
    -- visitor identities to hash, one small key to the conversation
    LEFT JOIN conversations_conversation cv ON cv.customer_id = s.customer_id
    JOIN instore_store st ON st.id = s.store_id
    JOIN instore_placement pl ON pl.id = s.placement_id
    JOIN commerce_product p ON p.id = pl.product_id
    WHERE {" AND ".join(where)}{persona}
    GROUP BY st.name, pl.id, p.name ORDER BY st.name, 4 DESC"""  # noqa: S608 (no input in the SQL)
    rows = [
        (store, label, product, scans, joined, _percent(joined, scans))
        for store, label, product, scans, joined in _fetch(sql, _params(filters))
    ]
    return Figure(
        "instore",
        "In store: scans per store and placement, and scans joined to an online history",
        ["store", "placement", "product", "scans", "joined online", "joined %"],
        rows,
        chart="bars",
        bars=[3, 4],
    )


def outcomes(filters: Filters) -> Figure:
    """Suggested next actions: how often shown, taken, and what followed."""
    sql = f"""SELECT o.action, count(*), count(o.taken_at), count(o.replied_at),
        count(o.ordered_at), count(o.opted_out_at), count(o.hot_at)
    FROM insights_outcome o
    WHERE o.shown_at >= %(start)s AND o.shown_at < %(end)s{filters.customers("o.customer_id")}
    GROUP BY o.action ORDER BY o.action"""  # noqa: S608 (no input in the SQL)
    return Figure(
        "outcomes",
        "Suggested next actions: shown, taken, and what followed",
        ["action", "shown", "taken", "replied", "ordered", "opted out", "hot case"],
        _fetch(sql, _params(filters)),
        chart="bars",
        bars=[1, 2, 4],
    )


FIGURES = {
    "fcr": first_contact_resolution,
    "contacts": contacts_per_resolution,
    "switching": channel_switching,
    "preferred": preferred_channels,
    "response": response_times,
    "journeys_order": lambda f: journeys(f, before="order"),
    "journeys_hot": lambda f: journeys(f, before="hot"),
    "nudges": nudges,
    "suppressions": nudge_suppressions,
    "instore": in_store,
    "outcomes": outcomes,
}


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _round(value) -> float | None:
    return None if value is None else round(float(value), 1)
