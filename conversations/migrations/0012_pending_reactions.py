"""The reactions' hand-over as a row written with the event (issue 17): a transactional
outbox, conversations/models_reactions.py. A new, empty table; nothing else changes.

Events recorded before this migration have no row: stream entries still waiting for a
`react` process when it runs are skipped (no row, nothing owed). Let `react` drain the
stream before migrating, or run `manage.py replay_reactions --since <the deploy>` after.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0011_parked_reactions'),
    ]

    operations = [
        migrations.CreateModel(
            name='PendingReaction',
            fields=[
                ('event_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('recorded_at', models.DateTimeField()),
                ('claimed_until', models.DateTimeField(blank=True, null=True)),
            ],
        ),
    ]
