"""`python manage.py repair_stored_bounds`: bring stored timestamps into the edges' window.

Migration 0009 runs it once on upgrade; run it again after importing data from outside the
API (a restore, a bulk load). Idempotent. The policy: docs/operations.md, "Repairing
stored data"; the work: conversations/repair.py.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from conversations.repair import BATCH_SIZE, describe, repair_stored_bounds


class Command(BaseCommand):
    help = "Repair timestamps outside the window the edges accept (issue 14)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help="Ids per statement and commit."
        )

    def handle(self, *args, batch_size: int = BATCH_SIZE, **options):
        repaired = repair_stored_bounds(
            batch_size=batch_size, progress=lambda line: self.stdout.write(line)
        )
        self.stdout.write(describe(repaired))
