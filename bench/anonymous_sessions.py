"""What anonymous traffic costs: `python -m bench.anonymous_sessions` (about a minute).

1. Widget sessions. 10,000 `POST /widget/session` from new visitors (no token), each from
   its own client address so the per-address limit counts every one of them but refuses
   none, through the whole Django request path in this process (Django's test client).
   Measured: the rows written (every table of the scratch database counted before and
   after), the bytes they take (`pg_total_relation_size` of every table, indexes and
   TOAST included, before and after) and the time per session. Targets: no customer row
   and no other row (an anonymous session is a signed token only, docs/widget.md), and at
   most 15 ms a session on a shared 2-core machine.
2. Scans. 10,000 anonymous `POST /s/<code>/scan`, one visitor each, the same way.
   Target: one row a scan (the `instore_scan` row the store's figures count;
   docs/instore.md), no customer.

Printed too, for the record: the rows and bytes per session and per scan.
Everything runs on a scratch database, `throughline_bench_anonymous`, on the server of
DATABASE_URL (or the embedded one), made and dropped here.
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

import os

from bench import scratch_database, setup_django, verdict

setup_django()

import ipaddress
import json
import logging
import time

from django.conf import settings
from django.db import connection
from django.test import Client

from channels_adapters.webchat.models import Site
from commerce.models import Product
from conversations.models import Customer
from instore.models import Placement, Store

logging.getLogger("throughline.requests").setLevel(logging.WARNING)  # one line a request

DATABASE = "throughline_bench_anonymous"
SESSIONS = int(os.environ.get("BENCH_ANONYMOUS_SESSIONS", 10_000))
SCANS = int(os.environ.get("BENCH_ANONYMOUS_SCANS", 10_000))
ORIGIN = "https://shop.example.com"
MAX_MS_PER_SESSION = 15.0
FIRST_ADDRESS = ipaddress.ip_address("10.0.0.1")  # one address per request, none refused


def table_figures() -> tuple[int, int]:
    """(rows, bytes) over every table of the scratch database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        tables = [name for (name,) in cursor.fetchall()]
        rows = 0
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # our own table names
            rows += cursor.fetchone()[0]
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(quote_ident(tablename))), 0) "
            "FROM pg_tables WHERE schemaname = 'public'"
        )
        size = int(cursor.fetchone()[0])
    return rows, size


def measure(label: str, count: int, post) -> tuple[float, float, float, int]:
    """Run `post(n)` for n in range(count); return rows and bytes per call, ms per call
    and the customers made."""
    customers_before = Customer.objects.count()
    rows_before, bytes_before = table_figures()
    started = time.perf_counter()
    for n in range(count):
        response = post(n)
        if response.status_code != 200:
            raise SystemExit(f"{label} {n}: HTTP {response.status_code} {response.content[:200]}")
    elapsed = time.perf_counter() - started
    rows_after, bytes_after = table_figures()
    customers = Customer.objects.count() - customers_before
    per_rows = (rows_after - rows_before) / count
    per_bytes = (bytes_after - bytes_before) / count
    per_ms = elapsed * 1000 / count
    print(
        f"{count} {label}: {rows_after - rows_before} rows, "
        f"{bytes_after - bytes_before:,} bytes, {customers} customers, {elapsed:.1f} s "
        f"({per_rows:.2f} rows, {per_bytes:.0f} bytes, {per_ms:.2f} ms each)",
        flush=True,
    )
    return per_rows, per_bytes, per_ms, customers


def main() -> None:
    # Every request comes from its own address, so the limits count but never refuse.
    settings.ALLOWED_HOSTS = ["*"]
    with scratch_database(DATABASE):
        site = Site.objects.create(name="Bench shop", allowed_origins=[ORIGIN])
        product = Product.objects.create(sku="T900", name="T900 Folding Treadmill")
        store = Store.objects.create(name="Downtown", time_zone="UTC", phone="+14155550100")
        placement = Placement.objects.create(store=store, product=product, label="aisle 4")
        client = Client()
        session_body = json.dumps({"site": site.public_key})

        def address(n: int) -> str:
            return str(FIRST_ADDRESS + n)

        def session(n: int):
            return client.post(
                "/widget/session",
                session_body,
                content_type="application/json",
                headers={"Origin": ORIGIN},
                REMOTE_ADDR=address(n),
            )

        def scan(n: int):
            return client.post(
                f"/s/{placement.code}/scan",
                "{}",
                content_type="application/json",
                REMOTE_ADDR=address(SESSIONS + n),
            )

        for n in range(50):  # warm: imports, plans, the connection
            session(SESSIONS + SCANS + n)
        rows, size, ms, customers = measure("anonymous sessions", SESSIONS, session)
        scan_rows, scan_bytes, scan_ms, scan_customers = measure("anonymous scans", SCANS, scan)
        lines = [
            verdict("anonymous.session_customers", customers, at_most=0),
            verdict("anonymous.session_rows_per_session", rows, at_most=0),
            verdict("anonymous.session_bytes_per_session", size, at_most=0),
            verdict("anonymous.session_ms", ms, at_most=MAX_MS_PER_SESSION),
            verdict("anonymous.scan_customers", scan_customers, at_most=0),
            verdict("anonymous.scan_rows_per_scan", scan_rows, at_most=1),
        ]
        print(f"anonymous scans: {scan_bytes:.0f} bytes and {scan_ms:.2f} ms each")
        for line in lines:
            print(line)


if __name__ == "__main__":
    main()
