"""The retention sweep's index on conversations_event, kept in this app.

A partial index over the events the sweep may still redact (text and voice, neither
redacted nor erased), ordered by time: the sweep reads what is due and nothing else, and
redacted rows leave the index. Raw SQL because the table belongs to conversations.
"""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("privacy", "0001_initial"),
        ("conversations", "0004_teams_and_agents"),
    ]

    operations = [
        migrations.RunSQL(
            sql="""CREATE INDEX CONCURRENTLY IF NOT EXISTS privacy_event_retention_idx
                ON conversations_event (occurred_at)
                WHERE kind IN ('message', 'call', 'voicemail')
                    AND NOT (data ? 'redacted') AND NOT (data ? 'erased')""",
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS privacy_event_retention_idx",
        ),
    ]
