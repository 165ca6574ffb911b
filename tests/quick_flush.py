"""The flush after each transactional test empties only the tables that have rows.

Django ends every transactional test (`django_db(transaction=True)`, the live server, the
browser tests: a couple of hundred in this suite) with `flush`: one TRUNCATE of every
table, about sixty. PostgreSQL gives each truncated table and index a new file, so that
costs 0.6-0.8 s on this machine, while a test leaves rows in a handful of tables. Checking
each table for a row and truncating only those (CASCADE takes any table referencing them
along) leaves the same empty database in about a tenth of the time. The post-migrate hooks
still run after it, as before, so permissions and roles come back the same way.

Only the flush transactional tests use (no sequence reset) is changed; a flush asked to
reset sequences, or on another database engine, is Django's own.
"""

from __future__ import annotations

from django.core.management.commands import flush

_django_sql_flush = flush.sql_flush

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
    IF cardinality(filled) > 0 THEN
        EXECUTE 'TRUNCATE ' || (SELECT string_agg(format('%%I', t), ', ') FROM unnest(filled) t)
            || ' CASCADE';
    END IF;
END $$
"""


def _sql_flush(style, connection, reset_sequences=True, allow_cascade=False):
    if reset_sequences or connection.vendor != "postgresql":
        return _django_sql_flush(
            style, connection, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    names = ", ".join("'{}'".format(table.replace("'", "''")) for table in tables)
    return [EMPTY_FILLED_TABLES % f"ARRAY[{names}]::text[]"] if tables else []


def install() -> None:
    flush.sql_flush = _sql_flush
