"""Keep the test database between runs, and know when it can no longer be kept.

`--reuse-db` (pyproject's addopts) keeps each test database (one per xdist worker:
`test_<name>_gw0`, ...) after a run, so the next run skips creating it. Django still runs
`migrate` on a kept database, which applies *new* migrations; what it cannot notice is a
migration that was edited, renamed, removed or squashed, or a branch switched under it:
the kept schema would then differ from what the migrations build, and tests would pass or
fail against a schema no fresh clone has.

So every database made here is labelled with a fingerprint of every installed app's
migration files (a comment on the database), and a run keeps a database only when its
label matches the migrations now on disk; otherwise it drops and rebuilds it. A database
without a label (its creation was interrupted) is rebuilt too. `--create-db` always
rebuilds.

A kept database is flushed once at the start: a run that was killed mid-test may have left
rows behind, and a completed run leaves it as its last test did. The flush runs the
post-migrate hooks, as a transactional test's flush does, so the permissions and the
console's roles are there as on a fresh database.
"""

from __future__ import annotations

import hashlib
from importlib.util import find_spec
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

LABEL = "throughline test database, migrations "
KEPT = pytest.StashKey[bool]()


def migrations_fingerprint() -> str:
    """A hash of the migration files of every installed app (ours and Django's own)."""
    digest = hashlib.sha256()
    for app in sorted(apps.get_app_configs(), key=lambda a: a.label):
        module, _ = MigrationLoader.migrations_module(app.label)
        spec = find_spec(module) if module else None
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for path in sorted(Path(folder).glob("*.py")):
                digest.update(f"{app.label}/{path.name}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _test_database_name() -> str:
    return connection.creation._get_test_db_name()


def _stored_label(name: str) -> str | None:
    """The database's label: None when it does not exist, "" when it has no label."""
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') "
            "FROM pg_database WHERE datname = %s",
            [name],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def must_create(config: pytest.Config, blocker) -> bool:
    """Whether the test database must be (re)built rather than kept."""
    config.stash[KEPT] = False
    if config.getvalue("create_db"):
        return True
    if not config.getvalue("reuse_db"):
        return False
    with blocker.unblock():
        stored = _stored_label(_test_database_name())
    keep = stored == LABEL + migrations_fingerprint()
    config.stash[KEPT] = keep
    return not keep


def after_setup(config: pytest.Config, blocker) -> None:
    """Label a new database; empty a kept one of whatever an earlier run left."""
    with blocker.unblock():
        if config.stash.get(KEPT, False):
            # the transactional tests' flush (tests/quick_flush.py): only what has rows
            call_command("flush", interactive=False, verbosity=0, reset_sequences=False)
            return
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        with connection.cursor() as cursor:
            # a hex digest: nothing to escape in the literal
            cursor.execute(f"COMMENT ON DATABASE {name} IS '{LABEL}{migrations_fingerprint()}'")
