from django.apps import AppConfig


class NumbersConfig(AppConfig):
    name = "channels_adapters.numbers"
    label = "numbers"
    verbose_name = "Numbers and Twilio accounts"
    plugs = {
        # the number the customer texts us on, and the numbers they opted out of
        "context_providers": ["channels_adapters.numbers.context.provide"],
        # which of our numbers a STOP or START was sent to
        "consent_hooks": ["channels_adapters.numbers.optouts.on_consent"],
        "erasure_hooks": ["channels_adapters.numbers.optouts.erase"],
    }

    def ready(self) -> None:
        from . import directory  # noqa: F401  (its signal receivers forget the cache)
