"""Scans carry their customer (issue 17): `Scan.customer`, backfilled from the visitor ids.

Written for a big scans table that keeps taking scans meanwhile, each step short:
1. the column, nullable (catalogue only), and its foreign key `NOT VALID` (no scan of
   the table under lock);
2. the backfill: the customer holding each scan's visitor identity, in primary-key
   batches of BATCH ids, each its own transaction (rows are locked a batch at a time);
3. `VALIDATE CONSTRAINT` (reads the table without blocking writes) and the index built
   `CONCURRENTLY`.

Non-atomic, so every step is written to be run again after an interruption. A scan the
previous release records while this runs may stay without its customer: run
`manage.py key_scans` after the deploy if scans kept coming in (instore.scans.key_scans). docs/scaling.md
gives its time at 50M events.
"""

import sys
import time

from django.db import connection, migrations, models, transaction

BATCH = 50_000  # scan ids per transaction: a second or so of row locks at most

ADD_COLUMN = """
ALTER TABLE instore_scan ADD COLUMN IF NOT EXISTS customer_id bigint NULL;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'instore_scan_customer_id_fk') THEN
        ALTER TABLE instore_scan ADD CONSTRAINT instore_scan_customer_id_fk
            FOREIGN KEY (customer_id) REFERENCES conversations_customer (id)
            DEFERRABLE INITIALLY DEFERRED NOT VALID;
    END IF;
END $$;
"""
DROP_COLUMN = "ALTER TABLE instore_scan DROP COLUMN IF EXISTS customer_id"

# Identities follow merges, so a visitor identity's customer is the live one.
BACKFILL = """
UPDATE instore_scan s SET customer_id = i.customer_id
FROM conversations_identity i
WHERE i.kind = 'visitor' AND i.value = s.visitor_id
    AND s.id >= %(low)s AND s.id < %(high)s AND s.customer_id IS NULL
"""


def backfill(apps, schema_editor):
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM instore_scan")
        low, last = cursor.fetchone()
    if low is None:
        return
    started, keyed = time.monotonic(), 0
    while low <= last:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(BACKFILL, {"low": low, "high": low + BATCH})
            keyed += cursor.rowcount
        low += BATCH
    sys.stdout.write(f"\n  {keyed} scans keyed by customer in {time.monotonic() - started:.1f} s")


class Migration(migrations.Migration):
    atomic = False  # the backfill commits batch by batch; the index is built CONCURRENTLY

    dependencies = [
        ("conversations", "0016_partition_the_journal"),
        ("instore", "0002_scan_consent_box"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="scan",
                    name="customer",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="scans",
                        to="conversations.customer",
                    ),
                ),
            ],
            database_operations=[migrations.RunSQL(ADD_COLUMN, DROP_COLUMN)],
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.RunSQL(
            "ALTER TABLE instore_scan VALIDATE CONSTRAINT instore_scan_customer_id_fk",
            migrations.RunSQL.noop,
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="scan",
                    index=models.Index(
                        fields=["customer", "-scanned_at"], name="scan_customer_recent_idx"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS scan_customer_recent_idx "
                    "ON instore_scan (customer_id, scanned_at DESC)",
                    "DROP INDEX CONCURRENTLY IF EXISTS scan_customer_recent_idx",
                ),
            ],
        ),
    ]
