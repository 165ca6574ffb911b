"""The flush after each transactional test empties only the tables that have rows.

Django ends every transactional test (`django_db(transaction=True)`, the live server, the
browser tests: about ninety in this suite) with `flush`: one TRUNCATE of every table,
about sixty. PostgreSQL gives each truncated table and index a new file, so that costs
0.6-0.8 s on this machine, while a test leaves rows in a handful of tables. Here each
table is checked for a row and only those are emptied, with DELETE (a few rows: no new
files, about a tenth of a TRUNCATE of the same tables, 0.05-0.1 s against 0.9-1.5 s on a
busy machine), the foreign keys checked once all are empty (Django makes them
DEFERRABLE). A key that is not deferrable (a hand-written one) fails that check, and the
same tables are TRUNCATEd with CASCADE instead, as before. The migrations' catalogue
(KEPT) is not emptied at all. The post-migrate hooks still run after it, as before, so
permissions and roles come back the same way; a hook that reads no app (ONCE: the
console's roles, `ensure_roles`, idempotent) runs once after all the apps' hooks instead
of once per app (twenty-one times, half of each flush's time). Its last run was the one
that counted: it ends with the same groups and permissions.

Only the flush transactional tests use (no sequence reset) is changed; a flush asked to
reset sequences, or on another database engine, is Django's own.
"""

from __future__ import annotations

import weakref

from django.core.management.commands import flush
from django.db.models.signals import post_migrate

_django_sql_flush = flush.sql_flush
_django_emit_post_migrate_signal = flush.emit_post_migrate_signal
ONCE = ("console.grant_roles",)  # dispatch_uid of post-migrate hooks that read no app

# The migrations' catalogue: every model's content type and permissions. No test adds to
# it, and the post-migrate hooks after each flush (create_contenttypes,
# create_permissions) only recreate what is missing: emptied, they wrote all of it again
# after every transactional test (about 280 statements, a second on a busy machine);
# kept, they find it all there. (A row a test deleted would still come back.)
KEPT = frozenset({"django_content_type", "auth_permission"})

EMPTY_FILLED_TABLES = """
DO $$
DECLARE
    name text;
    has_rows boolean;
    filled text[] := '{}';
BEGIN
    FOREACH name IN ARRAY %s LOOP
        EXECUTE format('SELECT EXISTS (SELECT FROM %%I)', name) INTO has_rows;
        IF has_rows THEN
            filled := filled || name;
        END IF;
    END LOOP;
    IF cardinality(filled) = 0 THEN
        RETURN;
    END IF;
    BEGIN
        SET CONSTRAINTS ALL DEFERRED;
        FOREACH name IN ARRAY filled LOOP
            EXECUTE format('DELETE FROM %%I', name);
        END LOOP;
        SET CONSTRAINTS ALL IMMEDIATE;  -- every key checked here, with all tables emptied
    EXCEPTION WHEN foreign_key_violation THEN  -- a key that is not deferrable
        EXECUTE 'TRUNCATE ' || (SELECT string_agg(format('%%I', t), ', ') FROM unnest(filled) t)
            || ' CASCADE';
    END;
END $$
"""


def _sql_flush(style, connection, reset_sequences=True, allow_cascade=False):
    if reset_sequences or connection.vendor != "postgresql":
        return _django_sql_flush(
            style, connection, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    tables = [
        table
        for table in connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        if table not in KEPT
    ]
    names = ", ".join("'{}'".format(table.replace("'", "''")) for table in tables)
    return [EMPTY_FILLED_TABLES % f"ARRAY[{names}]::text[]"] if tables else []


def _emit_post_migrate_signal(verbosity, interactive, db, **kwargs):
    """Django's, with the ONCE hooks run once, after every app's, as they end there."""
    once = [
        (uid, receiver() if isinstance(receiver, weakref.ReferenceType) else receiver)
        for (uid, _sender), receiver, _is_async in post_migrate.receivers
        if uid in ONCE
    ]
    for uid, _receiver in once:
        post_migrate.disconnect(dispatch_uid=uid)
    try:
        _django_emit_post_migrate_signal(verbosity, interactive, db, **kwargs)
    finally:
        for uid, receiver in once:
            post_migrate.connect(receiver, dispatch_uid=uid)
    for _uid, receiver in once:
        receiver(using=db, verbosity=verbosity, interactive=interactive)


def install() -> None:
    flush.sql_flush = _sql_flush
    flush.emit_post_migrate_signal = _emit_post_migrate_signal
