from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "channels_adapters.sms"
    label = "sms"
    verbose_name = "SMS"
    plugs = {
        # the outbox sends SMS through this transport, and the reply box answers by SMS
        # through the outbox (its consent and quiet-hours checks)
        "senders": {"sms": "channels_adapters.sms.outbound.deliver"},
        "reply_verbs": {"sms": "conversations.outbox.send"},
    }
