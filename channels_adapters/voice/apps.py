"""Phone calls through Twilio Voice."""

from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "channels_adapters.voice"
    label = "voice"
    verbose_name = "Voice"
    plugs = {
        # missed calls lately: a frustration signal in the customer context
        "context_providers": ["channels_adapters.voice.context.provide"],
    }
