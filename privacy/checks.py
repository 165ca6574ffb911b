"""System checks of the privacy app (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def suppression_key(app_configs, **kwargs):
    if getattr(settings, "SUPPRESSION_HASH_KEY", ""):
        return []
    return [
        Warning(
            "SUPPRESSION_HASH_KEY is not set: the suppression list's hashes use a key "
            "derived from SECRET_KEY, so rotating SECRET_KEY would forget every erased "
            "customer's opt-out.",
            hint="Set SUPPRESSION_HASH_KEY (or SUPPRESSION_HASH_KEY_FILE) to a long random "
            "secret and never change it (docs/privacy.md, 'The suppression list').",
            id="privacy.W001",
        )
    ]
