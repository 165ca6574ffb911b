"""Migration linter: no migration may lock the big tables against writes (`make lint`).

The journal (`conversations_event`), the outbox and insights' fact tables take writes on
every webhook; an operation holding a lock that blocks them for the length of a table
scan or an index build stops the shop for that long (0008 as first written re-added two
foreign keys on 3M events: appends waited 1.4 s, twice). On those tables this rejects:

- `AddIndex` / `RemoveIndex`: use `AddIndexConcurrently` / `RemoveIndexConcurrently`;
- `AddConstraint`: a CHECK or FOREIGN KEY validates the whole table under lock and a
  UNIQUE builds its index under lock; use `RunSQL` with `ADD CONSTRAINT ... NOT VALID`
  then `VALIDATE CONSTRAINT`, or `CREATE UNIQUE INDEX CONCURRENTLY` then `USING INDEX`;
- `AlterField` that changes the column in the database (a type change rewrites the
  table; on a foreign key Django drops and re-adds the constraint, validated under lock);
  metadata-only changes (help_text, choices, ...) pass; use `SeparateDatabaseAndState`;
- `AddField` of a column with an index, a unique or a foreign-key constraint;
- `AlterUniqueTogether` / `AlterIndexTogether`;
- `RunSQL` with `ALTER TABLE` (other than `ADD CONSTRAINT ... NOT VALID` and `VALIDATE
  CONSTRAINT`), `CREATE INDEX`, `REINDEX`, `CLUSTER` or `VACUUM FULL` on one of them
  without `CONCURRENTLY`; and anywhere, `LOCK TABLE` and `DROP INDEX` without
  `CONCURRENTLY` (the statement does not say whose index it drops).

A table created earlier in the same migration is empty and exempt. A migration that must
do one of these anyway says why in a comment, which exempts the whole file:

    # lint-migrations: allow <why it is safe: what ran on which table, when>

Run: `python tools/lint_migrations.py` (Django settings are loaded; no database is used).
Tests: tests/test_migration_lint.py, with good and bad examples of each rule.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GUARDED_TABLES = frozenset(
    {
        "conversations_event",
        "conversations_outbox",
        # insights' facts (insights/facts.py): one or more rows per event
        "insights_contact",
        "insights_casefact",
        "insights_channelused",
        "insights_sentmessage",
        "insights_journey",
    }
)
ALLOW = re.compile(r"#\s*lint-migrations:\s*allow\b[ \t:]*(?P<reason>[^\n]*)")
MIN_REASON = 10  # characters: "ok" is not a reason


@dataclass(frozen=True)
class Problem:
    migration: str  # "app.0008_name"
    operation: str  # e.g. "AlterField(event.author)"
    message: str

    def __str__(self) -> str:
        return f"{self.migration}: {self.operation}: {self.message}"


def lint_migration(migration, state, source: str = "") -> list[Problem]:
    """The problems of one migration, given the project state before it and its source."""
    from django.db.migrations.state import ProjectState

    label = f"{migration.app_label}.{migration.name}"
    allowed = ALLOW.search(source)
    if allowed:
        if len(allowed.group("reason").strip()) >= MIN_REASON:
            return []
        return [Problem(label, "lint-migrations: allow", "says allow but gives no reason")]
    state = state.clone() if isinstance(state, ProjectState) else ProjectState()
    created: set[str] = set()
    problems = []
    for operation in migration.operations:
        for message in _operation_problems(operation, migration.app_label, state, created):
            problems.append(Problem(label, _describe(operation), message))
        _track_created(operation, migration.app_label, state, created)
        operation.state_forwards(migration.app_label, state)
    return problems


def lint_project() -> list[Problem]:
    """Every migration of the project's apps (not Django's nor third parties')."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    ours = {
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(ROOT)
        and ".venv" not in Path(config.path).parts
    }
    loader = MigrationLoader(None, ignore_no_migrations=True)
    problems = []
    for key in sorted(loader.graph.nodes):
        if key[0] not in ours:
            continue
        migration = loader.graph.nodes[key]
        source = Path(sys.modules[migration.__module__].__file__).read_text()
        state = loader.project_state(key, at_end=False)
        problems.extend(lint_migration(migration, state, source))
    return problems


# ---------------------------------------------------------------------------- the rules


def _operation_problems(operation, app_label, state, created) -> list[str]:
    from django.contrib.postgres.operations import (
        AddIndexConcurrently,
        RemoveIndexConcurrently,
    )
    from django.db import migrations

    if isinstance(operation, migrations.SeparateDatabaseAndState):
        return [  # only the database side touches the tables
            message
            for inner in operation.database_operations
            for message in _operation_problems(inner, app_label, state, created)
        ]
    if isinstance(operation, migrations.RunSQL):
        return _sql_problems(operation)
    table = _table(operation, app_label, state)
    if table not in GUARDED_TABLES or table in created:
        return []
    if isinstance(operation, migrations.AddIndex) and not isinstance(
        operation, AddIndexConcurrently
    ):
        return ["builds the index under a lock that blocks writes: use AddIndexConcurrently"]
    if isinstance(operation, migrations.RemoveIndex) and not isinstance(
        operation, RemoveIndexConcurrently
    ):
        return ["drops the index under a lock that blocks writes: use RemoveIndexConcurrently"]
    if isinstance(operation, migrations.AddConstraint):
        return [
            "validates (CHECK, FOREIGN KEY) or indexes (UNIQUE) the whole table under lock: "
            "RunSQL with ADD CONSTRAINT ... NOT VALID then VALIDATE CONSTRAINT, or CREATE "
            "UNIQUE INDEX CONCURRENTLY then ADD CONSTRAINT ... USING INDEX"
        ]
    if isinstance(operation, migrations.AlterField):
        return _alter_field_problems(operation, app_label, state)
    if isinstance(operation, migrations.AddField):
        field = operation.field
        if field.db_index or field.unique or getattr(field, "db_constraint", False):
            return [
                "adds an index or a constraint with the column, under lock: add the plain "
                "column, then the index CONCURRENTLY / the constraint NOT VALID"
            ]
    if isinstance(operation, migrations.AlterUniqueTogether | migrations.AlterIndexTogether):
        return ["builds indexes under lock: use AddIndexConcurrently"]
    return []


def _alter_field_problems(operation, app_label, state) -> list[str]:
    old = state.models[app_label, operation.model_name_lower].fields.get(operation.name)
    new = operation.field.clone()
    new.set_attributes_from_name(operation.name)
    if old is not None:
        old = old.clone()
        old.set_attributes_from_name(operation.name)
        if _db_shape(old) == _db_shape(new):
            return []  # help_text, choices, on_delete...: nothing changes in the database
    return [
        "changes the column in the database: a type change rewrites the table, and on a "
        "foreign key Django drops and re-adds the constraint, validated under lock; use "
        "SeparateDatabaseAndState with RunSQL (DROP/CREATE INDEX CONCURRENTLY, NOT VALID)"
    ]


def _db_shape(field) -> tuple:
    """What of a field reaches the database (as Django's schema editor compares them)."""
    _name, path, args, kwargs = field.deconstruct()
    for attr in field.non_db_attrs:
        kwargs.pop(attr, None)
    return field.column, path, tuple(args), sorted(kwargs.items(), key=lambda kv: kv[0])


# SQL: comments stripped, whitespace folded, upper-cased, one statement at a time.
_GUARDED_SQL = re.compile(
    r'(?<![\w"])"?(' + "|".join(sorted(GUARDED_TABLES)) + r')"?(?![\w"])', re.IGNORECASE
)
_SAFE_ALTER = re.compile(r"\bADD\s+CONSTRAINT\b.*\bNOT\s+VALID\b|\bVALIDATE\s+CONSTRAINT\b")


def _sql_problems(operation) -> list[str]:
    problems = []
    for statement in _statements(operation.sql) + _statements(operation.reverse_sql):
        guarded = _GUARDED_SQL.search(statement) is not None
        concurrently = "CONCURRENTLY" in statement
        if statement.startswith("LOCK "):
            problems.append("LOCK TABLE blocks writes for the rest of the migration")
        elif statement.startswith("DROP INDEX") and not concurrently:
            problems.append("DROP INDEX blocks writes to its table: DROP INDEX CONCURRENTLY")
        elif not guarded:
            continue
        elif re.match(r"CREATE\s+(UNIQUE\s+)?INDEX\b", statement) and not concurrently:
            problems.append("CREATE INDEX blocks writes: CREATE INDEX CONCURRENTLY")
        elif statement.startswith("ALTER TABLE") and not _SAFE_ALTER.search(statement):
            problems.append(
                "ALTER TABLE on a big table: only ADD CONSTRAINT ... NOT VALID and VALIDATE "
                "CONSTRAINT do not lock writes for a table scan"
            )
        elif re.match(r"(REINDEX|CLUSTER|VACUUM\s+FULL)\b", statement) and not concurrently:
            problems.append("rewrites or reindexes the table under lock")
    return problems


def _statements(sql) -> list[str]:
    from django.db import migrations

    if sql is None or sql == migrations.RunSQL.noop:
        return []
    items = [sql] if isinstance(sql, str) else list(sql)
    statements = []
    for item in items:
        text = item[0] if isinstance(item, list | tuple) else item
        text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", text, flags=re.DOTALL)
        for statement in text.split(";"):
            folded = " ".join(statement.split()).upper()
            if folded:
                statements.append(folded)
    return statements


# ---------------------------------------------------------------------------- helpers


def _table(operation, app_label, state) -> str | None:
    name = getattr(operation, "model_name_lower", None) or getattr(operation, "name_lower", None)
    model = state.models.get((app_label, name)) if name else None
    if model is None:
        return None
    return model.options.get("db_table") or f"{app_label}_{name}"


def _track_created(operation, app_label, state, created) -> None:
    from django.db import migrations

    if isinstance(operation, migrations.CreateModel):
        table = operation.options.get("db_table") or f"{app_label}_{operation.name_lower}"
        created.add(table)


def _describe(operation) -> str:
    model = getattr(operation, "model_name", None)
    field = getattr(operation, "name", None)
    if model and field:
        return f"{type(operation).__name__}({model}.{field})"
    return type(operation).__name__ + (f"({model})" if model else "")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    problems = lint_project()
    for problem in problems:
        print(problem)
    print(f"lint-migrations: {len(problems)} problem(s)" if problems else "lint-migrations: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
