from django.apps import AppConfig, apps
from django.core import checks


class ConversationsConfig(AppConfig):
    name = "conversations"
    default_auto_field = "django.db.models.BigAutoField"
    plugs = {
        # names that arrive in the journal (an order's, a caller's): conversations/names.py;
        # an inbound message naming another customer's address queues a possible duplicate
        "event_reactions": ["conversations.names.on_event", "conversations.duplicates.on_event"],
        # the names and traits a merge keeps to undo itself are erased with the customer
        "erasure_hooks": ["conversations.merges.erase"],
    }

    def ready(self) -> None:
        # The core reads what the other apps plug in (base/plugins.py): a declaration of a
        # kind that does not exist stops every process now, rather than being ignored;
        # the paths are imported by `manage.py check` (migrate and runserver run it too).
        from base import plugins

        plugins.validate(apps.get_app_configs())
        checks.register(plugins.check, "plugins")
