"""`python manage.py replay_parked`: run parked reactions again, once their cause is fixed.

Without arguments it replays every parked row; `--id` picks rows, `--reaction` one
reaction's, `--retrying` includes rows still waiting for their automatic retry. A row that
works is deleted; one that fails again stays parked with its new error
(docs/subsystems/reactions.md).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from conversations import reactions
from conversations.models import ParkedReaction


class Command(BaseCommand):
    help = "Replay reactions parked after failing on an event."

    def add_arguments(self, parser):
        parser.add_argument("--id", type=int, action="append", dest="ids", help="A row's id.")
        parser.add_argument("--reaction", help="Only this reaction (its dotted path).")
        parser.add_argument(
            "--retrying", action="store_true", help="Also rows waiting for a retry."
        )

    def handle(self, *args, ids=None, reaction=None, retrying=False, **options):
        rows = ParkedReaction.objects.order_by("pk")
        if ids:
            rows = rows.filter(pk__in=ids)
        elif not retrying:
            rows = rows.filter(status=ParkedReaction.Status.PARKED)
        if reaction:
            rows = rows.filter(reaction=reaction)
        worked, failed = reactions.replay_all(rows)
        self.stdout.write(f"replayed {worked + failed}: {worked} worked, {failed} failed again")
