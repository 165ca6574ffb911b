"""Fewer indexes for every append to write: events by conversation are found through the
unique (conversation, seq), and only events with an author enter the author index.

Safe on a big, live journal (docs/operations.md, "Migrations"):

- The new partial author index is built CONCURRENTLY first, so deleting a user always
  has an index to find their events by.
- Django's `AlterField(db_index=False)` on a foreign key drops the FK constraint, drops the
  index and re-adds the constraint, which validates it over the whole table under a lock
  that blocks appends (measured on 3M events: appends waited 1.4 s, twice). Only the
  indexes change here, so the database side is two `DROP INDEX CONCURRENTLY` and the
  constraints are never touched; the model state is the one the AlterFields describe.
- The dropped indexes' names are the ones Django gave them in 0001 (its name hashes the
  table and column, so every installation has the same); IF EXISTS so an installation
  that dropped them by hand migrates too.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

OLD_INDEXES = {
    "conversations_event_author_id_028a875f": "author_id",
    "conversations_event_conversation_id_ad7c8c1b": "conversation_id",
}


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("conversations", "0007_case_snoozed_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(
                condition=models.Q(("author__isnull", False)),
                fields=["author"],
                name="event_author_idx",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                # One statement per RunSQL: a multi-statement string runs as one implicit
                # transaction, where CONCURRENTLY is refused.
                migrations.RunSQL(
                    sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"',
                    reverse_sql=(
                        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" '
                        f'ON "conversations_event" ("{column}")'
                    ),
                )
                for name, column in OLD_INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="author",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="conversation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="conversations.conversation",
                    ),
                ),
            ],
        ),
    ]
