"""`manage.py rebuild_insights`: recompute the figures' facts from the journal (facts.py)."""

import time

from django.core.management.base import BaseCommand

from insights import facts


class Command(BaseCommand):
    help = "Recompute contacts, case facts, replies and journeys from the whole journal."

    def handle(self, *args, **options):
        started = time.monotonic()
        facts.rebuild()
        self.stdout.write(f"Rebuilt the insights facts in {time.monotonic() - started:.1f} s.")
