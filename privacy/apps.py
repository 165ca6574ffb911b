from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"
    default_auto_field = "django.db.models.BigAutoField"
    plugs = {
        # the customer's preferences (per topic and channel) are honoured by the arbiter
        "engagement_gates": ["privacy.gates.gate"],
        "merge_hooks": ["privacy.preferences.move_to_survivor"],
        # every consent statement goes to the ledger with its proof (same transaction);
        # an erased address that had said stop starts opted out
        "consent_hooks": ["privacy.ledger.on_consent"],
        "suppression_checks": ["privacy.suppression.suppressed"],
        # export and erasure are for managers (console/roles.py)
        "manager_permissions": ["privacy.export_customer", "privacy.erase_customer"],
    }

    def ready(self):
        from . import checks  # noqa: F401 (registers the deploy check)
