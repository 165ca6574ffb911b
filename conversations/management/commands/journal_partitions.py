"""`python manage.py journal_partitions`: make the journal's next partitions ahead of time.

The hourly beat task `conversations.journal_partitions` does the same. It keeps
THROUGHLINE_JOURNAL_PARTITIONS_AHEAD ranges of THROUGHLINE_JOURNAL_PARTITION_SIZE ids made
past the next event id; events the default partition caught stay there and the next range
starts past them (conversations/partitions.py says why). `--list` shows the partitions,
their id ranges and sizes on disk.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection

from conversations import partitions


class Command(BaseCommand):
    help = "Create the journal's next partitions ahead of its ids; --list shows them."

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, help="Ranges to keep made past the next id.")
        parser.add_argument("--list", action="store_true", help="Only list the partitions.")

    def handle(self, *args, ahead=None, list=False, **options):
        if not list:
            created = partitions.create_ahead(ahead=ahead)
            self.stdout.write(f"created {len(created)}: {', '.join(created) or '-'}")
        self.stdout.write(f"next event id: {partitions.next_id()}")
        with connection.cursor() as cursor:
            for partition in partitions.partitions():
                cursor.execute("SELECT pg_total_relation_size(%s::regclass)", [partition.name])
                (size,) = cursor.fetchone()
                if partition.upper is None:
                    bounds = "default"
                else:
                    lower = "min" if partition.lower is None else partition.lower
                    bounds = f"ids {lower} to {partition.upper - 1}"
                self.stdout.write(f"  {partition.name}: {bounds}, {size / 2**20:.1f} MB")
