"""Realistic multi-channel histories for the demo and the benchmark (`seed_journeys`).

`seed_journeys(customers=N, journeys=4)` gives each of N new customers `journeys`
journeys drawn from TEMPLATES (web → cart → nudge → SMS reply → order; a chat left
unanswered, then a call; missed calls that turn a case hot; a store scan and an online
order…), spread over the last weeks, with their cases, orders, scans and nudges.

It writes in set-based SQL (a few statements whatever N), not through journal.record: a
million events take tens of seconds instead of hours. What it writes is what the verbs
would have written (gap-free seq per conversation, the inbox summary, one unresolved case
at most, cases on their events), so the journal carries on normally afterwards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from commerce.models import Product
from conversations import partitions
from conversations.models import Team
from instore.models import Placement, Store

from . import facts

# (template, minute, channel, direction, kind, by an agent, a need, body, data)
STEPS = [
    # 1: web → cart → nudge → SMS reply → order
    (1, 0, "api", "in", "page_view", False, False, "", "{}"),
    (1, 2, "api", "in", "product_view", False, False, "", '{"sku": "T900"}'),
    (1, 5, "api", "in", "cart", False, False, "", '{"value": "1299.00"}'),
    (
        1,
        65,
        "system",
        "internal",
        "nudge",
        False,
        False,
        "Cart reminder sent",
        '{"status": "sent", "rule": "cart_abandoned"}',
    ),
    (
        1,
        65,
        "sms",
        "out",
        "message",
        False,
        False,
        "Still thinking about the T900? Reply with any question.",
        "{}",
    ),
    (1, 80, "sms", "in", "message", False, True, "Does it fold flat?", "{}"),
    (1, 90, "sms", "out", "message", True, False, "Yes, it folds to 25 cm and rolls away.", "{}"),
    (1, 120, "api", "in", "order", False, False, "", '{"total": "1299.00"}'),
    # 2: a chat left unanswered, then a phone call that resolves it
    (2, 0, "web", "in", "message", False, True, "When will my order arrive?", "{}"),
    (2, 3, "web", "in", "message", False, True, "Hello?", "{}"),
    (2, 90, "voice", "in", "call", False, True, "Call", '{"duration": 240}'),
    (2, 91, "voice", "out", "call", True, False, "Answered", "{}"),
    # 3: a few texts, answered by text
    (3, 0, "sms", "in", "message", False, True, "I'd like to return the bench", "{}"),
    (3, 2, "sms", "in", "message", False, True, "It is unused", "{}"),
    (3, 20, "sms", "out", "message", True, False, "Of course, here is your return label.", "{}"),
    # 4: a store scan, an online order the next day
    (4, 0, "instore", "in", "scan", False, False, "Scanned: T900 at the seed store", "{}"),
    (4, 1440, "api", "in", "page_view", False, False, "", "{}"),
    (4, 1442, "api", "in", "product_view", False, False, "", '{"sku": "T900"}'),
    (4, 1450, "api", "in", "cart", False, False, "", '{"value": "1299.00"}'),
    (4, 1470, "api", "in", "order", False, False, "", '{"total": "1299.00"}'),
    # 5: two missed calls, the case turns hot, an offer and a call back
    (5, 0, "voice", "in", "call", False, True, "Call", "{}"),
    (5, 0, "voice", "internal", "missed_call", False, False, "Missed call", "{}"),
    (5, 5, "voice", "in", "call", False, True, "Call", "{}"),
    (5, 5, "voice", "internal", "missed_call", False, False, "Missed call", "{}"),
    (
        5,
        6,
        "system",
        "internal",
        "routing",
        False,
        False,
        "Case is hot: 2 missed calls",
        '{"action": "hot"}',
    ),
    (
        5,
        10,
        "sms",
        "out",
        "message",
        False,
        False,
        "Sorry we missed your calls. We'll call you back shortly.",
        "{}",
    ),
    (5, 40, "voice", "out", "call", True, False, "Call back", "{}"),
    # 6: browsing only
    (6, 0, "api", "in", "page_view", False, False, "", "{}"),
    (6, 1, "api", "in", "product_view", False, False, "", '{"sku": "T900"}'),
    (6, 3, "api", "in", "product_view", False, False, "", '{"sku": "B200"}'),
    (6, 6, "api", "in", "page_view", False, False, "", "{}"),
    # 7: a web chat answered on the web
    (7, 0, "web", "in", "message", False, True, "Is the T900 quiet?", "{}"),
    (7, 4, "web", "out", "message", True, False, "Very: 55 dB at 8 km/h.", "{}"),
    (7, 6, "web", "in", "message", False, True, "Great, thanks", "{}"),
    (7, 8, "web", "out", "message", True, False, "Anything else I can help with?", "{}"),
]
# template -> (intent, team slug, minutes to resolution, hot)
CASES = {
    1: ("order help", "sales", 130, False),
    2: ("delivery", "support", 100, False),
    3: ("returns", "support", 60, False),
    5: ("support", "support", 180, True),
    7: ("product question", "sales", 15, False),
}


@dataclass
class Seeded:
    customers: int
    events: int
    cases: int


def _values(rows: list[tuple]) -> tuple[str, list]:
    params, parts = [], []
    for row in rows:
        parts.append("(" + ", ".join(["%s"] * len(row)) + ")")
        params.extend(row)
    return ", ".join(parts), params


@transaction.atomic
def seed_journeys(*, customers: int, journeys: int = 4, days: int = 60) -> Seeded:
    tag = secrets.token_hex(3)
    now = timezone.now()
    teams = {
        slug: Team.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0].pk
        for slug in ("sales", "support")
    }
    agent, _ = get_user_model().objects.get_or_create(
        username="seed-agent", defaults={"is_staff": True}
    )
    product, _ = Product.objects.get_or_create(
        sku="T900", defaults={"name": "T900 Folding Treadmill", "price": 1299, "currency": "USD"}
    )
    store, _ = Store.objects.get_or_create(name="Seed store", defaults={"time_zone": "UTC"})
    placement, _ = Placement.objects.get_or_create(
        store=store, product=product, label="seed: entrance"
    )
    steps_sql, steps_params = _values(STEPS)
    cases_sql, cases_params = _values(
        [
            (t, intent, teams[team], minutes, hot)
            for t, (intent, team, minutes, hot) in CASES.items()
        ]
    )
    p = {
        "n": customers,
        "journeys": journeys,
        "days": days,
        "tag": tag,
        "now": now,
        "agent": agent.pk,
        "placement": placement.pk,
        "store": store.pk,
    }
    with connection.cursor() as cursor:
        run = lambda sql, extra=(): cursor.execute(sql, [*extra] if extra else p)  # noqa: E731
        run(
            """CREATE TEMP TABLE seed_customer ON COMMIT DROP AS
            SELECT g AS n, nextval(pg_get_serial_sequence('conversations_customer', 'id')) AS id,
                nextval(pg_get_serial_sequence('conversations_conversation', 'id'))
                    AS conversation_id
            FROM generate_series(1, %(n)s) g"""
        )
        run(
            """INSERT INTO conversations_customer (id, display_name, traits, locale, time_zone,
                created_at)
            SELECT id, 'Seed shopper ' || n, '{"seed": true}'::jsonb, 'en-US', '',
                %(now)s - make_interval(days => %(days)s + 1)
            FROM seed_customer"""
        )
        run(
            """INSERT INTO conversations_conversation (id, customer_id, status, priority,
                last_seq, last_channel, unread_count, created_at)
            SELECT conversation_id, id, 'idle', 0, 0, '', 0,
                %(now)s - make_interval(days => %(days)s + 1)
            FROM seed_customer"""
        )
        run(
            """INSERT INTO conversations_identity (customer_id, kind, value, consent_source,
                created_at)
            SELECT id, 'email', 'seed-' || %(tag)s || '-' || n || '@example.test', '', %(now)s
            FROM seed_customer
            UNION ALL
            SELECT id, 'visitor', 'sv-' || %(tag)s || '-' || n, '', %(now)s FROM seed_customer"""
        )
        # each journey: a template and a start; journeys of a customer a week apart at most
        run(
            """CREATE TEMP TABLE seed_journey ON COMMIT DROP AS
            SELECT row_number() OVER () AS jid, c.id AS customer_id, c.conversation_id, c.n, j,
                1 + floor(random() * 7)::int AS template,
                %(now)s - make_interval(days => %(days)s)
                    + make_interval(mins =>
                        floor(random() * %(days)s * 1440 / (%(journeys)s + 1))::int
                        + (j - 1) * (%(days)s * 1440 / (%(journeys)s + 1))) AS base,
                NULL::bigint AS case_id
            FROM seed_customer c CROSS JOIN generate_series(1, %(journeys)s) j"""
        )
        run("ANALYZE seed_journey")
        run(
            f"""CREATE TEMP TABLE seed_step ON COMMIT DROP AS
            SELECT sj.jid, sj.customer_id, sj.conversation_id, sj.n, sj.j, sj.template,
                sj.base + make_interval(mins => s.minute) AS at, s.minute, s.channel, s.direction,
                s.kind, s.agent, s.need, s.body, s.data::jsonb AS data
            FROM seed_journey sj
            JOIN (VALUES {steps_sql}) AS s(template, minute, channel, direction, kind, agent,
                need, body, data) ON s.template = sj.template""",  # noqa: S608 (no input in the SQL)
            steps_params,
        )
        run("ANALYZE seed_customer")
        run("ANALYZE seed_step")
        run(
            f"""UPDATE seed_journey sj SET case_id =
                nextval(pg_get_serial_sequence('conversations_case', 'id'))
            FROM (VALUES {cases_sql}) AS t(template, intent, team, minutes, hot)
            WHERE t.template = sj.template""",  # noqa: S608 (no input in the SQL)
            cases_params,
        )
        # the last journey of one customer in ten is still open
        run(
            f"""INSERT INTO conversations_case (id, conversation_id, status, priority, intent,
                team_id, opened_at, first_response_at, resolved_at, resolution)
            SELECT sj.case_id, sj.conversation_id,
                CASE WHEN open THEN 'open' ELSE 'resolved' END,
                CASE WHEN t.hot THEN 10 ELSE 0 END, t.intent, t.team,
                first.opened_at, first.responded_at,
                CASE WHEN open THEN NULL ELSE sj.base + make_interval(mins => t.minutes) END,
                CASE WHEN open THEN '' ELSE 'resolved' END
            FROM seed_journey sj
            JOIN (VALUES {cases_sql}) AS t(template, intent, team, minutes, hot)
                ON t.template = sj.template
            CROSS JOIN LATERAL (SELECT sj.j = %s AND sj.n %% 10 = 0 AS open) o
            JOIN (
                SELECT s.jid, min(s.at) FILTER (WHERE s.need) AS opened_at,
                    min(s.at) FILTER (WHERE s.agent) AS responded_at
                FROM seed_step s GROUP BY s.jid
            ) first ON first.jid = sj.jid""",  # noqa: S608 (no input in the SQL)
            [*cases_params, journeys],
        )
        # every event below gets an id from here on: what reads them back reads only that
        p["first_event"] = partitions.next_id()
        run(
            """INSERT INTO conversations_event (conversation_id, seq, case_id, channel, direction,
                kind, body, data, occurred_at, recorded_at, source_id, delivery_status, author_id)
            SELECT s.conversation_id,
                row_number() OVER (PARTITION BY s.conversation_id ORDER BY s.at, s.jid, s.minute),
                CASE WHEN c.id IS NOT NULL AND s.at >= c.opened_at THEN c.id END,
                s.channel, s.direction, s.kind, s.body, s.data, s.at, s.at, NULL,
                CASE WHEN s.direction = 'out' AND s.kind = 'message' THEN 'delivered' ELSE '' END,
                CASE WHEN s.agent THEN %(agent)s END
            FROM seed_step s
            JOIN seed_journey sj ON sj.jid = s.jid
            LEFT JOIN conversations_case c ON c.id = sj.case_id"""
        )
        events = cursor.rowcount
        run(
            """UPDATE conversations_conversation cv SET last_seq = x.n, last_event_at = x.last_at,
                last_inbound_at = x.last_in, last_outbound_at = x.last_out,
                last_channel = coalesce(x.last_channel, ''),
                current_case_id = x.open_case,
                status = CASE WHEN x.open_case IS NULL THEN 'idle' ELSE 'open' END
            FROM (
                SELECT s.conversation_id, count(*) AS n, max(s.at) AS last_at,
                    max(s.at) FILTER (WHERE s.direction = 'in') AS last_in,
                    max(s.at) FILTER (WHERE s.direction = 'out') AS last_out,
                    (array_agg(s.channel ORDER BY s.at DESC) FILTER (WHERE s.direction = 'in'))[1]
                        AS last_channel,
                    open.id AS open_case
                FROM seed_step s
                LEFT JOIN conversations_case open
                    ON open.conversation_id = s.conversation_id AND open.status = 'open'
                GROUP BY s.conversation_id, open.id
            ) x WHERE cv.id = x.conversation_id"""
        )
        run(
            """INSERT INTO commerce_order (external_id, customer_id, currency, total, items,
                placed_at, event_id)
            SELECT 'seed-' || %(tag)s || '-' || e.id, cv.customer_id, 'USD', 1299.00,
                '[{"sku": "T900", "name": "T900 Folding Treadmill", "quantity": 1}]'::jsonb,
                e.occurred_at, e.id
            FROM conversations_event e
            JOIN seed_customer c ON c.conversation_id = e.conversation_id
            JOIN conversations_conversation cv ON cv.id = e.conversation_id
            WHERE e.kind = 'order' AND e.id >= %(first_event)s"""
        )
        run(
            """INSERT INTO instore_scan (placement_id, store_id, visitor_id, customer_id,
                source_id, reference, scanned_at)
            SELECT %(placement)s, %(store)s, 'sv-' || %(tag)s || '-' || s.n, s.customer_id,
                'seed:' || %(tag)s || ':' || s.jid,
                left(%(tag)s || to_hex(s.jid), 16), s.at
            FROM seed_step s WHERE s.kind = 'scan'"""
        )
        if apps.is_installed("engagement"):
            # one cart reminder in four was held back (quiet hours); the rest were sent,
            # replied to, and ordered after (the journey says so)
            run(
                """INSERT INTO engagement_nudge (customer_id, rule, step, dedupe_key, topic,
                    channels, channel, status, reason, priority, body, data, proposed_at, due_at,
                    decided_at, replied_at, ordered_at)
                SELECT s.customer_id, 'cart_abandoned', 1, 'seed:' || %(tag)s || ':' || s.jid,
                    'cart_reminders', '["sms"]'::jsonb, 'sms',
                    CASE WHEN s.jid %% 4 = 0 THEN 'suppressed' ELSE 'sent' END,
                    CASE WHEN s.jid %% 4 = 0 THEN 'quiet hours: after 21:00' ELSE '' END,
                    0, 'Still thinking about the T900?', '{}'::jsonb, s.at, s.at, s.at,
                    CASE WHEN s.jid %% 4 <> 0 THEN s.at + interval '15 minutes' END,
                    CASE WHEN s.jid %% 4 <> 0 THEN s.at + interval '55 minutes' END
                FROM seed_step s WHERE s.kind = 'nudge'"""
            )
        run("SELECT count(*) FROM seed_journey WHERE case_id IS NOT NULL")
        cases = cursor.fetchone()[0]
    # the seed wrote around the event hooks: the figures' facts of its conversations follow
    facts.add_conversations(
        "SELECT conversation_id FROM seed_customer", first_event=p["first_event"]
    )
    with connection.cursor() as cursor:
        # now, not at commit: a caller's transaction may seed again (batches, tests)
        cursor.execute("DROP TABLE seed_customer, seed_journey, seed_step")
    return Seeded(customers=customers, events=events, cases=cases)
