"""Phone calls through Twilio Voice."""

from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "channels_adapters.voice"
    label = "voice"
    verbose_name = "Voice"
