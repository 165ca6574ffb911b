"""The engagement sweep against the size of the shop: `python -m bench.sweep` (minutes:
the setup of the 1,000,000 carts, then six sweeps of 1,000 due carts, deliveries included;
rounds stop early past TIME_BUDGET. BENCH_SWEEP_SMALL, _BIG and _DUE make it smaller).

1. Due work, not carts. The abandoned-cart sweep (`engagement.sweeps.sweep`: due watches
   advanced into proposals, then decided by the arbiter, SMS written to the outbox) over
   1,000,000 carts of which 1,000 are due, against the same sweep over 100,000 carts with
   the same 1,000 due. Target: time ratio <= 2 (the sweep reads due rows through partial
   indexes, so the other 999,000 carts cost nothing). Two scratch databases, the big one
   a copy of the small one plus 900,000 carts, filled with set-based SQL
   (`INSERT ... SELECT generate_series`) in about a minute. Each round sweeps as
   production does: every batch commits, and after each commit the deliveries run (the
   Celery task, eager here, with the `locmem` SMS backend), all inside the clock. So that
   every round still finds exactly 1,000 due carts, there are ROUNDS sets of them, due a
   minute apart an hour ago, and round r sweeps with `now` just after set r fell due
   (set r - 1 is done by then, set r + 1 not yet due). The rounds alternate between the
   two databases; the figure is the ratio of medians.
2. End to end. Nudges per second through `arbiter.propose` (decided at once) and the
   outbox with the `locmem` SMS backend, delivery included (Celery eager in this process),
   against its floor: an agent's SMS through `outbox.send` and the same delivery. Printed:
   nudges per second (for the record) and the ratio to the floor's time (target <= 6: a
   nudge also renders its template from the customer context and records its decision).

Scratch databases `throughline_bench_sweep` and `throughline_bench_sweep_big`, on the
server of DATABASE_URL (or the embedded one), made and dropped here.
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

import os

os.environ["DATABASE_POOL"] = "false"  # the rounds switch databases under one connection
os.environ["SMS_BACKEND"] = "channels_adapters.sms.backends.LocmemBackend"

from bench import median, release_connections, scratch_database, setup_django, verdict

setup_django()

import logging
import time
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from channels_adapters.sms.backends import LocmemBackend
from config.celery import app
from conversations import outbox
from conversations.models import Customer, Identity
from engagement import arbiter, sweeps
from engagement.models import Nudge
from engagement.rules import cart_abandoned

logging.getLogger("celery").setLevel(logging.WARNING)  # eager tasks log each run at INFO

DATABASE = "throughline_bench_sweep"
BIG_DATABASE = "throughline_bench_sweep_big"
SMALL_CARTS = int(os.environ.get("BENCH_SWEEP_SMALL", 100_000))
BIG_CARTS = int(os.environ.get("BENCH_SWEEP_BIG", 1_000_000))
DUE = int(os.environ.get("BENCH_SWEEP_DUE", 1_000))
ROUNDS = 3  # per database, alternating (each sweeps 1,000 carts into nudges: ~1 min here)
E2E = 300  # nudges (and floor sends) for the end-to-end figure
TIME_BUDGET = 10 * 60  # seconds: rounds stop early (with at least 2 each) past this


def daytime_zone() -> str:
    """A zone where it is about noon now, so quiet hours never decide the figures."""
    offset = 12 - timezone.now().hour
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


# Customers, conversations, carts and cart watches first..last: ids are the series itself.
# The first DUE * ROUNDS carts went idle three hours ago (their owner has a phone with
# consent and a line in the cart); their watches fall due in sets of DUE, a minute apart
# from an hour ago (`round_now` says when set r is due). The rest are abandoned long ago
# and done with (watch NULL: out of the index) or waiting for a later step (a future time
# in the index).
_FILL_SQL = """
INSERT INTO conversations_customer (id, display_name, traits, locale, time_zone, created_at)
SELECT g, 'Shopper ' || g, '{}', '', %(zone)s, %(now)s FROM generate_series(%(first)s, %(last)s) g;
INSERT INTO conversations_conversation (id, customer_id, status, priority, last_seq,
    last_channel, unread_count, created_at)
SELECT g, g, 'idle', 0, 0, '', 0, %(now)s FROM generate_series(%(first)s, %(last)s) g;
INSERT INTO commerce_cart (id, customer_id, status, external_id, currency, value, item_count,
    snapshot_at, created_at, updated_at)
SELECT g, g, 'open', '', 'USD', 1999.00, 1,
    CASE WHEN g <= %(due)s THEN %(now)s - interval '3 hours'
         ELSE %(now)s - (g %% 90 + 2) * interval '1 day' END,
    %(now)s - interval '90 days', %(now)s
FROM generate_series(%(first)s, %(last)s) g;
INSERT INTO engagement_watch (id, rule, subject, customer_id, step, next_action_at,
    closed_reason, data, created_at, updated_at)
SELECT g, 'cart_abandoned', 'cart:' || g, g, CASE WHEN g <= %(due)s THEN 0 ELSE 1 END,
    CASE WHEN g <= %(due)s
            THEN %(now)s - interval '1 hour' + ((g - 1) / %(per_round)s) * interval '1 minute'
         WHEN g %% 4 = 0 THEN %(now)s + (g %% 23 + 1) * interval '1 hour'
         ELSE NULL END,
    CASE WHEN g <= %(due)s OR g %% 4 = 0 THEN '' ELSE 'sequence done' END,
    '{}', %(now)s, %(now)s
FROM generate_series(%(first)s, %(last)s) g;
"""
_DUE_SQL = """
INSERT INTO conversations_identity (customer_id, kind, value, consented_at, consent_source,
    created_at)
SELECT g, 'phone', '+1415' || (2000000 + g)::text, %(now)s, 'checkout', %(now)s
FROM generate_series(1, %(due)s) g;
-- the consent ledger's proof, which marketing texts need (privacy/gates.py)
INSERT INTO privacy_consentrecord (customer_id, action, topic, channel, address_kind, address,
    source, words, text_version, user_agent, occurred_at, recorded_at)
SELECT g, 'granted', '', 'sms', 'phone', '+1415' || (2000000 + g)::text, 'checkout',
    'Yes, text me offers.', 'v1', '', %(now)s, %(now)s
FROM generate_series(1, %(due)s) g;
INSERT INTO commerce_product (sku, name, price, currency, url, image, needs_assembly,
    created_at, updated_at)
VALUES ('T900', 'T900 treadmill', 1999.00, 'USD', '', '', false, %(now)s, %(now)s);
INSERT INTO commerce_cartitem (cart_id, product_id, position, sku, name, quantity, unit_price)
SELECT g, (SELECT id FROM commerce_product WHERE sku = 'T900'), 0, 'T900', 'T900 treadmill',
    1, 1999.00
FROM generate_series(1, %(due)s) g;
"""
TABLES = [
    "conversations_customer", "conversations_conversation", "commerce_cart", "engagement_watch"
]  # fmt: skip


def fill(first: int, last: int, now) -> None:
    with connection.cursor() as cursor:
        params = {
            "first": first,
            "last": last,
            "due": DUE * ROUNDS,
            "per_round": DUE,
            "now": now,
            "zone": daytime_zone(),
        }
        cursor.execute(_FILL_SQL, params)
        if first == 1:
            cursor.execute(_DUE_SQL, params)
        for table in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # table names: constants
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("VACUUM ANALYZE" if not connection.in_atomic_block else "ANALYZE")


def use(name: str) -> None:
    release_connections()
    connection.settings_dict["NAME"] = name


def round_now(now, number: int):
    """When round `number` sweeps: 30 s after its set of DUE watches fell due."""
    return now - timedelta(hours=1) + timedelta(minutes=number, seconds=30)


def one_sweep(now, number: int) -> tuple[float, dict]:
    """Round `number`'s sweep as production runs it: each batch commits, the deliveries
    run after each commit (eager Celery, locmem SMS), all of it timed."""
    sent_before = Nudge.objects.filter(status="sent").count()
    delivered_before = len(LocmemBackend.sent)
    started = time.perf_counter()
    result = sweeps.sweep(batch_size=200, max_batches=DUE // 200 + 2, now=round_now(now, number))
    elapsed = time.perf_counter() - started
    result["sent"] = Nudge.objects.filter(status="sent").count() - sent_before
    result["delivered"] = len(LocmemBackend.sent) - delivered_before
    return elapsed, result


def bench_sweep(now) -> list[str]:
    app.conf.task_always_eager = True  # each commit's deliveries run here, timed
    started = time.monotonic()
    fill(1, SMALL_CARTS, now)
    cart_abandoned.RULE.config()  # the rule's row, in both databases
    print(f"setup: {SMALL_CARTS:,} carts in {time.monotonic() - started:.0f} s", flush=True)
    release_connections()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{BIG_DATABASE}"')
        cursor.execute(f'CREATE DATABASE "{BIG_DATABASE}" TEMPLATE "{DATABASE}"')
    use(BIG_DATABASE)
    fill(SMALL_CARTS + 1, BIG_CARTS, now)
    print(f"setup: {BIG_CARTS:,} carts in {time.monotonic() - started:.0f} s", flush=True)
    times: dict[str, list[float]] = {DATABASE: [], BIG_DATABASE: []}
    try:
        for round_ in range(ROUNDS):
            # alternate which goes first, so neither always finds the other's warm caches
            for name in (DATABASE, BIG_DATABASE)[:: 1 if round_ % 2 else -1]:
                use(name)
                elapsed, result = one_sweep(now, round_)
                counts = [result[key] for key in ("nudges", "watches", "sent", "delivered")]
                if counts != [DUE] * 4:
                    raise RuntimeError(f"{name}: the sweep found {result}, expected {DUE} due")
                times[name].append(elapsed)
            if round_ >= 1 and time.monotonic() - started > TIME_BUDGET:
                break
    finally:
        use(DATABASE)
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{BIG_DATABASE}"')
    small, big = median(times[DATABASE]), median(times[BIG_DATABASE])
    print(
        f"sweep of {DUE:,} due: {small:.2f} s over {SMALL_CARTS:,} carts, {big:.2f} s over "
        f"{BIG_CARTS:,} ({len(times[DATABASE])} rounds each)",
        flush=True,
    )
    return [verdict("sweep.big_vs_small_ratio", big / small, at_most=2)]


def bench_end_to_end() -> list[str]:
    """Nudges decided and delivered, against an agent's SMS sent and delivered."""
    app.conf.task_always_eager = True  # the delivery task runs here, after each commit
    zone = daytime_zone()

    from conversations.models import Conversation
    from privacy.models import ConsentRecord

    def make(prefix: str, base: int) -> list[Customer]:
        made = []
        for n in range(E2E):
            customer = Customer.objects.create(display_name=f"{prefix} {n}", time_zone=zone)
            Conversation.objects.create(customer=customer)
            Identity.objects.create(
                customer=customer,
                kind="phone",
                value=f"+1646{base + n}",
                consented_at=timezone.now(),
            )
            ConsentRecord.objects.create(  # the proof marketing texts need (privacy/gates.py)
                customer=customer,
                action="granted",
                channel="sms",
                address_kind="phone",
                address=f"+1646{base + n}",
                source="checkout",
                words="Yes, text me offers.",
                occurred_at=timezone.now(),
            )
            made.append(customer)
        return made

    floor_customers, nudge_customers = make("Floor", 2_000_000), make("Nudged", 3_000_000)
    LocmemBackend.sent.clear()
    started = time.perf_counter()
    for customer in floor_customers:
        outbox.send(customer=customer, channel="sms", body="Hi, Alice here: your T900 is in.")
    floor = time.perf_counter() - started
    started = time.perf_counter()
    for n, customer in enumerate(nudge_customers):
        arbiter.propose(
            customer,
            rule="cart_abandoned",
            step=1,
            dedupe_key=f"bench:{n}",
            topic="cart_reminders",
            body="Still thinking about the T900? Happy to answer questions: just reply here.",
        )
    nudges = time.perf_counter() - started
    if len(LocmemBackend.sent) != 2 * E2E:
        raise RuntimeError(f"{len(LocmemBackend.sent)} messages delivered, expected {2 * E2E}")
    rate = E2E / nudges
    print(
        f"end to end: {rate:.0f} nudges/s ({nudges / E2E * 1000:.1f} ms each), floor "
        f"{floor / E2E * 1000:.1f} ms per agent SMS",
        flush=True,
    )
    # The rate is printed above for the record; the verdict is the ratio to the floor
    # measured in this run, as every figure here (a shared machine's absolute speed says
    # little).
    return [verdict("sweep.nudge_vs_agent_sms_ratio", nudges / floor, at_most=6)]


def main() -> None:
    started = time.monotonic()
    with scratch_database(DATABASE):
        now = timezone.now() - timedelta(seconds=1)
        verdicts = bench_sweep(now)
        verdicts += bench_end_to_end()
    print(f"total: {time.monotonic() - started:.0f} s", flush=True)
    print("\n".join(verdicts), flush=True)


if __name__ == "__main__":
    main()
