"""`manage.py sweep_anonymous`: what the hourly `webchat.sweep_anonymous` task does, now."""

from django.core.management.base import BaseCommand

from channels_adapters.webchat.sweeps import sweep_anonymous_leftovers


class Command(BaseCommand):
    help = (
        "Remove what anonymous widget visitors left that never became worth keeping "
        "(older than ANONYMOUS_SWEEP_AFTER)."
    )

    def handle(self, *args, **options):
        swept = sweep_anonymous_leftovers()
        self.stdout.write(
            f"removed {swept.customers} empty visitor customers "
            f"and {swept.phone_codes} old phone codes"
        )
