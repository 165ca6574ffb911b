from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _grant_roles(**kwargs) -> None:
    # After each app's migrations: its permissions exist by then (auth made them first).
    from console.roles import ensure_roles

    ensure_roles()


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Agent console"
    plugs = {
        # the reply box starts on the web chat only while the shopper has it open
        "presence_hooks": ["console.replies.widget_opened"],
    }

    def ready(self) -> None:
        from django.contrib import admin

        # the agent's tool carries the product's name, not "Django administration"
        admin.site.site_header = admin.site.site_title = "Throughline"
        admin.site.index_title = "Home"
        post_migrate.connect(_grant_roles, dispatch_uid="console.grant_roles")
