"""Prepared statements for the hot paths' fixed SQL: the append, a first contact, the
greeting's headline.

Django binds parameters on the client, so PostgreSQL parses and plans every query anew.
For the few big statements every webhook runs, planning costs several times what
executing them does (measured here: the headline plans in about 1.5 ms and runs in
0.2 ms). `cursor()` gives a Django cursor (query logging and execute wrappers included)
that binds on the server instead; psycopg then prepares each statement once per
connection (DATABASES OPTIONS `prepare_threshold`, from DATABASE_PREPARED_STATEMENTS) and
PostgreSQL reuses its plan. With prepared statements switched off (PgBouncer in
transaction mode before 1.21, say) the same cursor simply runs them unprepared. (Django's
query log shows a prepared statement without its text.)
"""

from __future__ import annotations

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper


def cursor() -> CursorWrapper:
    """A cursor of the default connection that binds parameters on the server."""
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    # django-stubs type the argument as Django's wrapper; Django passes the driver's cursor
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)  # type: ignore[arg-type]
    return connection.make_cursor(raw)  # type: ignore[arg-type]
