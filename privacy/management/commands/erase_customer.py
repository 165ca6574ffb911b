"""`manage.py erase_customer <customer id> --by <username>`: erase personal data."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from conversations.models import Customer
from privacy.erasure import erase_customer


class Command(BaseCommand):
    help = "Erase a customer's personal data everywhere, and at Twilio (docs/privacy.md)."

    def add_arguments(self, parser):
        parser.add_argument("customer_id", type=int)
        parser.add_argument(
            "--by", required=True, help="the username of who asked for it (kept on record)"
        )

    def handle(self, *args, customer_id, by, **options):
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise CommandError(f"No customer #{customer_id}.")
        user = get_user_model().objects.filter(username=by).first()
        if user is None:
            raise CommandError(f"No user {by!r}.")
        report = erase_customer(customer, by=user)
        self.stdout.write(report.summary())
