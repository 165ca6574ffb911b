"""`manage.py create_api_key "Shop production"`: print a new API key, once."""

from django.core.management.base import BaseCommand

from api.keys import create_api_key


class Command(BaseCommand):
    help = "Create an API key for the REST API and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who will use the key, e.g. 'Shop production'.")

    def handle(self, *args, name: str, **options):
        api_key, raw = create_api_key(name=name)
        self.stderr.write(f"Created API key #{api_key.pk} '{api_key.name}'. Store it now:")
        self.stdout.write(raw)
