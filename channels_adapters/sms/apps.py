from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "channels_adapters.sms"
    label = "sms"
    verbose_name = "SMS"
