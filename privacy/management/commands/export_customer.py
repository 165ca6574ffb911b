"""`manage.py export_customer <customer id> [--output FILE]`: everything held, as JSON."""

from django.core.management.base import BaseCommand, CommandError

from conversations.models import Customer
from privacy.export import export_json


class Command(BaseCommand):
    help = "Write one JSON document with everything held about a customer (docs/privacy.md)."

    def add_arguments(self, parser):
        parser.add_argument("customer_id", type=int)
        parser.add_argument("--output", "-o", help="a file to write (default: standard output)")

    def handle(self, *args, customer_id, output=None, **options):
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise CommandError(f"No customer #{customer_id}.")
        document = export_json(customer)
        if output:
            with open(output, "w", encoding="utf-8") as file:
                file.write(document)
            self.stderr.write(f"Wrote {output}.")
        else:
            self.stdout.write(document)
