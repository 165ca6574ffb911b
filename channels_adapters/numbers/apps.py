from django.apps import AppConfig


class NumbersConfig(AppConfig):
    name = "channels_adapters.numbers"
    label = "numbers"
    verbose_name = "Numbers and Twilio accounts"
    plugs = {
        # the number the customer texts us on, and the numbers they opted out of
        "context_providers": ["channels_adapters.numbers.context.provide"],
    }

    def ready(self) -> None:
        from . import directory  # noqa: F401  (its signal receivers forget the cache)
