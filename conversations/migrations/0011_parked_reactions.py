"""Reactions that failed on an event: retried with backoff, then parked for a person
(issue 17; conversations/reactions.py). A new, empty table.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0010_whatsapp_and_short_codes'),
    ]

    operations = [
        migrations.CreateModel(
            name='ParkedReaction',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_id', models.BigIntegerField()),
                ('reaction', models.CharField(max_length=200)),
                ('status', models.CharField(choices=[('retrying', 'Retrying'), ('parked', 'Parked')], default='retrying', max_length=16)),
                ('attempts', models.PositiveSmallIntegerField(default=1)),
                ('error', models.TextField()),
                ('first_failed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('last_failed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'indexes': [models.Index(condition=models.Q(('status', 'retrying')), fields=['next_attempt_at'], name='parked_reaction_due_idx')],
                'constraints': [models.UniqueConstraint(fields=('event_id', 'reaction'), name='parked_reaction_event_reaction_unique')],
            },
        ),
    ]
