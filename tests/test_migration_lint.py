"""The migration linter (tools/lint_migrations.py): good and bad examples of each rule,
and every migration of the project passes it."""

import subprocess
import sys

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader

from tests.conftest import subprocess_env
from tools.lint_migrations import lint_migration, lint_project


@pytest.fixture(scope="module")
def state():
    """The project's state at the end of its migrations: the tables the examples touch."""
    return MigrationLoader(None, ignore_no_migrations=True).project_state()


def migration(*operations, app="conversations"):
    made = migrations.Migration("9999_example", app)
    made.operations = list(operations)
    return made


def problems(state, *operations, source="", app="conversations"):
    return lint_migration(migration(*operations, app=app), state, source)


AUTHOR_INDEX = models.Index(fields=["author"], name="example_idx")
FK_WITH_INDEX = models.ForeignKey(
    "conversations.conversation", on_delete=models.PROTECT, related_name="events"
)

GOOD = {
    "index built concurrently": AddIndexConcurrently("event", AUTHOR_INDEX),
    "index dropped concurrently": RemoveIndexConcurrently("event", "event_author_idx"),
    "index on a small table": migrations.AddIndex("case", AUTHOR_INDEX),
    "plain nullable column": migrations.AddField("event", "extra", models.DateTimeField(null=True)),
    "metadata-only change": migrations.AlterField(
        "outbox", "last_error", models.TextField(blank=True, help_text="for agents")
    ),
    "state-only AlterField with concurrent SQL": migrations.SeparateDatabaseAndState(
        database_operations=[
            migrations.RunSQL(
                "DROP INDEX CONCURRENTLY IF EXISTS some_idx",
                "CREATE INDEX CONCURRENTLY some_idx ON conversations_event (conversation_id)",
            )
        ],
        state_operations=[migrations.AlterField("event", "conversation", FK_WITH_INDEX)],
    ),
    "constraint added NOT VALID, then validated": migrations.RunSQL(
        [
            "ALTER TABLE conversations_event ADD CONSTRAINT c CHECK (seq > 0) NOT VALID",
            "ALTER TABLE conversations_event VALIDATE CONSTRAINT c",
        ]
    ),
    "SQL on a small table": migrations.RunSQL(
        "CREATE INDEX x ON conversations_case (opened_at); ALTER TABLE conversations_case "
        "ADD COLUMN y int"
    ),
    "SQL naming a table that only starts like a big one": migrations.RunSQL(
        "ALTER TABLE conversations_event_archive ADD COLUMN y int"
    ),
}

BAD = {
    "index built under lock": migrations.AddIndex("event", AUTHOR_INDEX),
    "index dropped under lock": migrations.RemoveIndex("outbox", "outbox_due_idx"),
    "check constraint validated under lock": migrations.AddConstraint(
        "outbox",
        models.CheckConstraint(condition=models.Q(attempts__lt=99), name="outbox_attempts"),
    ),
    # 0008 as first written: Django drops and re-adds the foreign key
    "foreign key re-added": migrations.AlterField(
        "event",
        "conversation",
        models.ForeignKey(
            "conversations.conversation", on_delete=models.PROTECT, related_name="events"
        ),
    ),
    "column type changed": migrations.AlterField("event", "kind", models.TextField()),
    "foreign key column added": migrations.AddField(
        "event",
        "team",
        models.ForeignKey("conversations.team", null=True, on_delete=models.SET_NULL),
    ),
    "unique column added": migrations.AddField(
        "outbox", "key", models.CharField(max_length=8, null=True, unique=True)
    ),
    "LOCK TABLE": migrations.RunSQL("LOCK TABLE conversations_case IN EXCLUSIVE MODE"),
    "CREATE INDEX without CONCURRENTLY": migrations.RunSQL(
        'CREATE INDEX x ON "conversations_event" (kind)'
    ),
    "DROP INDEX without CONCURRENTLY, in the reverse SQL": migrations.RunSQL(
        "CREATE INDEX CONCURRENTLY x ON conversations_event (kind)", "DROP INDEX x"
    ),
    "constraint validated at once": migrations.RunSQL(
        "-- quick\nALTER TABLE conversations_outbox ADD CONSTRAINT c CHECK (attempts < 99)"
    ),
    "table rewritten": migrations.RunSQL("VACUUM FULL insights_contact"),
}


@pytest.mark.parametrize("operation", GOOD.values(), ids=GOOD.keys())
def test_it_accepts_operations_that_leave_writes_flowing(state, operation):
    assert problems(state, operation) == []


@pytest.mark.parametrize("operation", BAD.values(), ids=BAD.keys())
def test_it_rejects_operations_that_lock_a_big_table(state, operation):
    found = problems(state, operation)

    assert len(found) == 1
    assert found[0].migration == "conversations.9999_example"


def test_a_fact_table_is_guarded_from_its_own_app(state):
    assert problems(state, migrations.AddIndex("sentmessage", AUTHOR_INDEX), app="insights")


def test_a_table_created_in_the_same_migration_is_exempt(state):
    created = migrations.CreateModel(
        "Event", [("id", models.BigAutoField(primary_key=True)), ("author", models.TextField())]
    )

    assert problems(state, created, migrations.AddIndex("event", AUTHOR_INDEX), app="fresh") == []
    assert problems(
        state, migrations.AddIndex("event", AUTHOR_INDEX), app="conversations"
    )  # the same index on the real table is not


def test_a_justified_migration_passes_and_an_unjustified_allow_does_not(state):
    operation = BAD["index built under lock"]
    reason = "# lint-migrations: allow ran at first release, on an empty table\n"

    assert problems(state, operation, source=reason) == []
    found = problems(state, operation, source="# lint-migrations: allow\n")
    assert [p.message for p in found] == ["says allow but gives no reason"]


def test_every_project_migration_passes():
    assert lint_project() == []


def test_the_make_lint_command_passes_on_the_project():
    ok = subprocess.run(
        [sys.executable, "tools/lint_migrations.py"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "lint-migrations: ok" in ok.stdout
