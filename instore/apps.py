from django.apps import AppConfig


class InstoreConfig(AppConfig):
    name = "instore"
    verbose_name = "In store"
    default_auto_field = "django.db.models.BigAutoField"
    plugs = {
        # a text carrying a scan's reference joins the sender's phone to the scan: cheap,
        # and the shopper is waiting for the answer, so after commit, not as a reaction
        "event_hooks": ["instore.hooks.on_event"],
        # an anonymous scan is journalled (and keyed by its customer) when its visitor
        # becomes a customer's; merges move the key, splits send it after the visitor id
        "visitor_hooks": ["instore.scans.journal_held_scans"],
        "merge_hooks": ["instore.scans.move_to_survivor"],
        "split_hooks": ["instore.scans.follow_visitors_after_split"],
        # `in_store` in the context, and in the one-query headline a greeting reads
        "context_providers": ["instore.context.provide"],
        "headline_parts": ["instore.context.HEADLINE"],
        # an erased customer's scans lose their visitor id; an export lists them
        "erasure_hooks": ["instore.privacy.erase"],
        "export_hooks": ["instore.privacy.export"],
    }
