"""The journal becomes a table partitioned by range of id (ADR 0009), in place.

No row moves. The existing `conversations_event` becomes the first partition
(`conversations_event_p0`, every id below a bound a little past today's newest) of a new
partitioned table of the same name; new ids go to `conversations_event_p<bound>` and the
ones after it, which `manage.py journal_partitions` (also a beat task) creates ahead of
time; a default partition takes any id no partition is ready for yet, so no append is
ever refused.

Safe on a big, live journal (docs/operations.md, "Partitioning an existing journal"):
the long parts do not block appends, and the one step that does lasts milliseconds.

1. Without blocking writes (each its own transaction): build the two indexes the new
   table wants on the old one CONCURRENTLY; add a CHECK `id < bound` NOT VALID and
   VALIDATE it (a scan under SHARE UPDATE EXCLUSIVE), so attaching the table needs no
   scan; create `conversations_eventsource`, the global `(channel, source_id)` key, and
   copy the sourced events' keys into it.
2. The swap, one short transaction. It first takes every lock it needs (the events',
   the tables its foreign keys reference, the tables whose foreign keys reference it),
   each waited for at most 400 ms, and gives them all back and tries again a second
   later when one is not granted, so it never deadlocks with an append (PostgreSQL
   would cancel one of the two). Then: copy the keys written meanwhile, rename the old
   table and its indexes, create the partitioned table with the same columns,
   constraints and indexes (which then adopt the old ones, no build), attach the old
   table as its first partition, create the next partition and the default one, the
   identity sequence continuing where the old one stopped, the triggers that keep
   `conversations_eventsource`, and point the foreign keys of the tables that reference
   events at the new table (NOT VALID: no scan under the lock).
3. Without blocking writes: VALIDATE those foreign keys.

The unique (conversation, seq) constraint and the unique (channel, source_id) index are
dropped (a partitioned table's unique index must hold the id); the first is kept by the
conversation's row lock, the second by `conversations_eventsource`.

A journal already partitioned (the steps run by hand ahead of a deploy, as
docs/operations.md shows) is left as it is. Not reversible.
"""

# The conversion alters the journal on purpose; its docstring says why each step is safe.
# lint-migrations: allow no scan or build under a lock: the docstring, steps 1 to 3

import logging
import time

from django.conf import settings
from django.db import migrations, models

EVENTS = "conversations_event"
SOURCES = "conversations_eventsource"
logger = logging.getLogger(__name__)
SWAP_ATTEMPTS = 30
LOCK_WAIT = "400ms"

# The triggers that keep the global key (channel, source_id): an event with a source id
# inserts its key in the same statement (a repeat fails it with a unique violation, as the
# unique index did); setting or clearing an event's source id later moves its key.
# `WHEN` is evaluated without calling the function, so events without a source id (most
# appends) pay nothing.
TRIGGERS_SQL = f"""
CREATE OR REPLACE FUNCTION conversations_event_source_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {SOURCES} (channel, source_id, event_id)
    VALUES (NEW.channel, NEW.source_id, NEW.id);
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION conversations_event_source_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.source_id IS NOT NULL THEN
        DELETE FROM {SOURCES}
        WHERE channel = OLD.channel AND source_id = OLD.source_id AND event_id = OLD.id;
    END IF;
    IF NEW.source_id IS NOT NULL THEN
        INSERT INTO {SOURCES} (channel, source_id, event_id)
        VALUES (NEW.channel, NEW.source_id, NEW.id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER event_source_inserted AFTER INSERT ON {EVENTS}
    FOR EACH ROW WHEN (NEW.source_id IS NOT NULL)
    EXECUTE FUNCTION conversations_event_source_inserted();
CREATE TRIGGER event_source_changed AFTER UPDATE OF channel, source_id ON {EVENTS}
    FOR EACH ROW WHEN (OLD.source_id IS DISTINCT FROM NEW.source_id
        OR OLD.channel IS DISTINCT FROM NEW.channel)
    EXECUTE FUNCTION conversations_event_source_changed();
"""  # noqa: S608 (the tables' own names, no input)

# The new table's indexes, by name: (definition, the old table's equivalent). Each old
# index is renamed away first, then adopted by the new partitioned index at ATTACH.
RETENTION_PREDICATE = (
    "kind IN ('message', 'call', 'voicemail') AND NOT (data ? 'redacted') AND NOT (data ? 'erased')"
)
INDEXES = {
    "conversations_event_case_id_29a17f78": "(case_id)",
    "event_author_idx": "(author_id) WHERE author_id IS NOT NULL",
    "event_conversation_seq_idx": "(conversation_id, seq)",
    "event_channel_source_id_idx": "(channel, source_id) WHERE source_id IS NOT NULL",
    # privacy's retention sweep (privacy/migrations/0002)
    "privacy_event_retention_idx": f"(occurred_at) WHERE {RETENTION_PREDICATE}",
}
NEW_ON_OLD = {  # built CONCURRENTLY on the old table before the swap
    "event_conversation_seq_idx": "conversations_event_p0_conversation_seq",
    "event_channel_source_id_idx": "conversations_event_p0_channel_source_id",
}


def _partition_size() -> int:
    return getattr(settings, "THROUGHLINE_JOURNAL_PARTITION_SIZE", 10_000_000)


def convert(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:

        def run(sql, params=None):
            cursor.execute(sql, params)

        def one(sql, params=None):
            cursor.execute(sql, params)
            return cursor.fetchone()

        (kind,) = one("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [EVENTS])
        if kind == "p":
            return  # partitioned already (by hand, ahead of the deploy)
        size = _partition_size()
        (last,) = one(f"SELECT coalesce(max(id), 0) FROM {EVENTS}")  # noqa: S608
        # The first partition's end: the next multiple of the size with room to spare
        # for what is appended while this runs.
        bound = (last // size + 1) * size
        if bound - last < size // 10:
            bound += size

        # 1. Without blocking writes.
        started = time.monotonic()
        for name, old in NEW_ON_OLD.items():
            run(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {old} ON {EVENTS} {INDEXES[name]}")
        run(f"ALTER TABLE {EVENTS} DROP CONSTRAINT IF EXISTS conversations_event_p0_bounds")
        run(
            f"ALTER TABLE {EVENTS} ADD CONSTRAINT conversations_event_p0_bounds"
            f" CHECK (id IS NOT NULL AND id < {bound}) NOT VALID"
        )
        run(f"ALTER TABLE {EVENTS} VALIDATE CONSTRAINT conversations_event_p0_bounds")
        run(
            f"""CREATE TABLE IF NOT EXISTS {SOURCES} (
                channel varchar(16) NOT NULL, source_id varchar(128) NOT NULL,
                event_id bigint NOT NULL, PRIMARY KEY (channel, source_id))"""
        )
        (copied,) = one(f"SELECT coalesce(max(id), 0) FROM {EVENTS}")  # noqa: S608
        run(
            f"""INSERT INTO {SOURCES} (channel, source_id, event_id)
            SELECT channel, source_id, id FROM {EVENTS}
            WHERE source_id IS NOT NULL AND id <= %s ON CONFLICT DO NOTHING""",  # noqa: S608
            [copied],
        )

        logger.info("journal partitioning: steps 1-3 took %.1f s", time.monotonic() - started)
        # 2. The swap.
        referencing = _referencing_foreign_keys(cursor)
        neighbours = _neighbours(cursor)
        for attempt in range(SWAP_ATTEMPTS):
            run("BEGIN")
            try:
                if not _lock_all(run, neighbours):
                    run("ROLLBACK")
                    time.sleep(1 + attempt)  # live traffic holds a lock: let it pass
                    continue
                locked = time.monotonic()
                run("SET LOCAL lock_timeout = '10s'")
                _catch_up_and_swap(run, one, copied, bound, size, referencing)
                run("COMMIT")
                logger.info(
                    "journal partitioning: the swap held the journal's lock %.0f ms (try %d)",
                    (time.monotonic() - locked) * 1000,
                    attempt + 1,
                )
                break
            except BaseException:
                run("ROLLBACK")
                raise
        else:
            raise RuntimeError(
                f"conversations_event: no moment without writers in {SWAP_ATTEMPTS} tries; "
                "run migrate again (what was done is kept)"
            )

        # 3. Without blocking writes.
        started = time.monotonic()
        for table, name, _definition in referencing:
            run(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"')
        logger.info("journal partitioning: step 5 took %.1f s", time.monotonic() - started)


def _neighbours(cursor) -> tuple[list[str], list[str]]:
    """The tables whose locks the swap needs besides the events': those the events'
    foreign keys reference (adding those keys takes SHARE ROW EXCLUSIVE there), and those
    whose foreign keys reference the events (dropping theirs takes ACCESS EXCLUSIVE)."""
    cursor.execute(
        """SELECT DISTINCT confrelid::regclass::text FROM pg_constraint
        WHERE contype = 'f' AND conrelid = %s::regclass""",
        [EVENTS],
    )
    referenced = sorted(name for (name,) in cursor.fetchall())
    cursor.execute(
        """SELECT DISTINCT conrelid::regclass::text FROM pg_constraint
        WHERE contype = 'f' AND confrelid = %s::regclass AND conparentid = 0""",
        [EVENTS],
    )
    referencing = sorted(name for (name,) in cursor.fetchall())
    return referenced, referencing


def _lock_all(run, neighbours) -> bool:
    """Every lock the swap needs, or none.

    Appends lock the conversation, then the events; an outbound message then the outbox;
    the reactions read events, then write their facts. Waiting for one of those while
    holding the events' lock would deadlock with them, and PostgreSQL would cancel one of
    the two: it must be the swap, never an append. So every lock is taken here, before
    any change, each waited for at most LOCK_WAIT (shorter than the server's
    deadlock_timeout, 1 s by default, so the swap gives up before a deadlock is looked
    for), and all are given back at once when one is not granted."""
    from django.db.utils import OperationalError

    referenced, referencing = neighbours
    try:
        run(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
        if referenced:
            run(f"LOCK TABLE {', '.join(referenced)} IN SHARE ROW EXCLUSIVE MODE")
        if referencing:
            run(f"LOCK TABLE {', '.join(referencing)} IN ACCESS EXCLUSIVE MODE")
        run(f"LOCK TABLE {EVENTS} IN ACCESS EXCLUSIVE MODE")
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", "") == "55P03":  # lock_not_available
            return False
        raise
    return True


def _catch_up_and_swap(run, one, copied, bound, size, referencing) -> None:
    run(
        f"""INSERT INTO {SOURCES} (channel, source_id, event_id)
        SELECT channel, source_id, id FROM {EVENTS}
        WHERE source_id IS NOT NULL AND id > %s""",  # noqa: S608
        [copied],
    )
    (next_id,) = one(f"SELECT coalesce(max(id), 0) + 1 FROM {EVENTS}")  # noqa: S608
    sequence = one("SELECT pg_get_serial_sequence(%s, 'id')", [EVENTS])[0]
    if sequence:
        (seq_next,) = one(
            f"SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {sequence}"  # noqa: S608
        )
        next_id = max(next_id, seq_next)
    _swap(run, one, bound, size, next_id, referencing)


def _referencing_foreign_keys(cursor) -> list[tuple[str, str, str]]:
    """(table, constraint, definition) of every foreign key that references events."""
    cursor.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass
            AND conparentid = 0""",
        [EVENTS],
    )
    return cursor.fetchall()


def _swap(run, one, bound, size, next_id, referencing) -> None:
    old = f"{EVENTS}_p0"
    # The old table's own names go: the new table takes them.
    run(f"ALTER INDEX {EVENTS}_pkey RENAME TO {old}_pkey")
    for name in INDEXES:
        if name in NEW_ON_OLD:
            continue
        run(f"ALTER INDEX IF EXISTS {name} RENAME TO {old}_{name.removeprefix(EVENTS + '_')}")
    run(f"ALTER TABLE {EVENTS} RENAME TO {old}")
    run(f"ALTER TABLE {old} DROP CONSTRAINT IF EXISTS event_conversation_seq_unique")
    run("DROP INDEX IF EXISTS event_channel_source_id_unique")
    own_foreign_keys = one(
        """SELECT coalesce(array_agg(conname || ' ' || pg_get_constraintdef(oid)), '{}')
        FROM pg_constraint WHERE contype = 'f' AND conrelid = %s::regclass""",
        [old],
    )[0]
    # The ids continue in the new table's own sequence; the old one goes with its identity.
    run(f"ALTER TABLE {old} ALTER COLUMN id DROP IDENTITY IF EXISTS")
    run(
        f"""CREATE TABLE {EVENTS} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
        PARTITION BY RANGE (id)"""
    )
    run(f"ALTER TABLE {EVENTS} DROP CONSTRAINT conversations_event_p0_bounds")
    run(f"ALTER TABLE {EVENTS} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
    run("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [EVENTS, next_id])
    run(f"ALTER TABLE {EVENTS} ADD CONSTRAINT {EVENTS}_pkey PRIMARY KEY (id)")
    for foreign_key in own_foreign_keys:  # "name FOREIGN KEY (...) REFERENCES ..."
        run(f"ALTER TABLE {EVENTS} ADD CONSTRAINT {foreign_key}")
    for name, definition in INDEXES.items():
        run(f"CREATE INDEX {name} ON ONLY {EVENTS} {definition}")
    # Adopts the old table's equivalent indexes, constraints and foreign keys (no build),
    # and skips the scan: the validated CHECK proves the bound.
    run(f"ALTER TABLE {EVENTS} ATTACH PARTITION {old} FOR VALUES FROM (MINVALUE) TO ({bound})")
    run(f"ALTER TABLE {old} DROP CONSTRAINT conversations_event_p0_bounds")
    run(
        f"CREATE TABLE {EVENTS}_p{bound} PARTITION OF {EVENTS}"
        f" FOR VALUES FROM ({bound}) TO ({bound + size})"
    )
    run(f"CREATE TABLE {EVENTS}_default PARTITION OF {EVENTS} DEFAULT")
    run(TRIGGERS_SQL)
    for table, name, definition in referencing:
        run(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        run(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition} NOT VALID')


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY; the swap is its own short transaction

    dependencies = [
        ("conversations", "0015_email_channel"),
        ("privacy", "0002_event_retention_index"),  # its index on the events moves too
    ]

    operations = [
        migrations.RunPython(convert, elidable=False),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="event", name="event_conversation_seq_unique"
                ),
                migrations.RemoveConstraint(
                    model_name="event", name="event_channel_source_id_unique"
                ),
                migrations.AddIndex(
                    model_name="event",
                    index=models.Index(
                        fields=["conversation", "seq"], name="event_conversation_seq_idx"
                    ),
                ),
                migrations.AddIndex(
                    model_name="event",
                    index=models.Index(
                        condition=models.Q(("source_id__isnull", False)),
                        fields=["channel", "source_id"],
                        name="event_channel_source_id_idx",
                    ),
                ),
                migrations.CreateModel(
                    name="EventSource",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "channel",
                                "source_id",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("channel", models.CharField(max_length=16)),
                        ("source_id", models.CharField(max_length=128)),
                        ("event_id", models.BigIntegerField()),
                    ],
                ),
            ],
        ),
    ]
