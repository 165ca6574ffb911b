"""The figures' index on a table of conversations, kept in this app: cases opened in a
period, with the columns the figures read (every case figure starts there).

Raw SQL because the table belongs to conversations; IF NOT EXISTS / IF EXISTS so the
migration can be applied and reversed safely. Built CONCURRENTLY: on a live database a
plain CREATE INDEX would block case writes while it builds. The figures read no index of
the events table: they aggregate the facts of this app (facts.py), and nothing here
slows the journal's appends.
"""

from django.db import migrations

INDEXES = {
    # the columns the figures read ride along, so the case side is an index-only scan
    "insights_case_opened_idx": """ON conversations_case (opened_at)
        INCLUDE (id, status, intent, team_id, first_response_at, resolved_at, conversation_id)""",
}


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("insights", "0001_initial"),
        ("conversations", "0004_teams_and_agents"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {definition}",
            reverse_sql=f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
        )
        for name, definition in INDEXES.items()
    ]
