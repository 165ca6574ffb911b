from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _grant_roles(**kwargs) -> None:
    # After each app's migrations: its permissions exist by then (auth made them first).
    from console.roles import ensure_roles

    ensure_roles()


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Agent console"

    def ready(self) -> None:
        post_migrate.connect(_grant_roles, dispatch_uid="console.grant_roles")
