from django.apps import AppConfig


class EmailConfig(AppConfig):
    name = "channels_adapters.email"
    label = "email"
    verbose_name = "Email"
    default_auto_field = "django.db.models.BigAutoField"
    plugs = {
        # the outbox sends email through the anymail backend, and the console's reply box
        # answers by email through this adapter's verb (the subject and threading headers)
        "senders": {"email": "channels_adapters.email.outbound.deliver"},
        "reply_verbs": {"email": "channels_adapters.email.outbound.reply_by_email"},
        # the customer's export and erasure include the mails' MIME and attachments
        "export_hooks": ["channels_adapters.email.privacy.export"],
        "erasure_hooks": ["channels_adapters.email.privacy.erase"],
    }
