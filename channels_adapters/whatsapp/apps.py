from django.apps import AppConfig


class WhatsAppConfig(AppConfig):
    name = "channels_adapters.whatsapp"
    label = "whatsapp"
    verbose_name = "WhatsApp"
    plugs = {
        # the outbox sends WhatsApp messages through this transport; the reply box and the
        # arbiter write through send_whatsapp, which knows the 24-hour window's rules
        "senders": {"whatsapp": "channels_adapters.whatsapp.outbound.deliver"},
        "reply_verbs": {"whatsapp": "channels_adapters.whatsapp.outbound.send_whatsapp"},
        # the window in the customer context (the console reads it)
        "context_providers": ["channels_adapters.whatsapp.window.provide"],
        # the arbiter routes a nudge to WhatsApp only when the window or a template allows
        "engagement_gates": ["channels_adapters.whatsapp.window.gate"],
        # free text whose window closed while it waited is not sent
        "send_checks": ["channels_adapters.whatsapp.window.check"],
    }
