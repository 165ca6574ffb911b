from django.apps import AppConfig


class WebchatConfig(AppConfig):
    name = "channels_adapters.webchat"
    label = "webchat"
    verbose_name = "Web chat"
    plugs = {
        # the reply box answers on the web through the widget's socket, not the outbox
        "reply_verbs": {"web": "channels_adapters.webchat.outbound.reply_on_web"},
        # "Continue by SMS" codes, keyed by visitor id and phone
        "erasure_hooks": ["channels_adapters.webchat.privacy.erase"],
    }
