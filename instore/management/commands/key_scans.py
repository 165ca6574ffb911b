"""`manage.py key_scans`: key by customer the scans recorded without one (instore.scans.key_scans).

Run once after deploying migration instore 0003 on a shop that kept taking scans while it
ran; running it again does nothing more.
"""

from django.core.management.base import BaseCommand

from instore.scans import key_scans


class Command(BaseCommand):
    help = "Key by customer the scans recorded without one (after migration instore 0003)."

    def handle(self, *args, **options):
        keyed = key_scans()
        self.stdout.write(f"{keyed} scans keyed by customer")
