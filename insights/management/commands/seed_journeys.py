"""`manage.py seed_journeys --customers N`: realistic multi-channel histories (insights/seed.py)."""

import time

from django.core.management.base import BaseCommand, CommandError

from insights.seed import seed_journeys


class Command(BaseCommand):
    help = "Add N customers with realistic journeys across web, SMS, voice and the store."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1000)
        parser.add_argument("--journeys", type=int, default=4, help="per customer")
        parser.add_argument("--days", type=int, default=60, help="spread over the last N days")

    def handle(self, *args, customers, journeys, days, **options):
        if customers < 1 or journeys < 1 or days < 1:
            raise CommandError("--customers, --journeys and --days must be at least 1.")
        started = time.monotonic()
        seeded = seed_journeys(customers=customers, journeys=journeys, days=days)
        self.stdout.write(
            f"Seeded {seeded.customers} customers, {seeded.events} events, {seeded.cases} cases "
            f"in {time.monotonic() - started:.1f} s."
        )
