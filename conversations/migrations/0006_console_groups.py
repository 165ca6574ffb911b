"""The console's two roles as Django groups with their model permissions (docs/console.md).

Agents read the console and act on conversations and cases; managers also keep the
teams, agent profiles and canned responses. Re-running it only adds what is missing.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

AGENTS = [
    "view_customer",
    "change_customer",  # merge two customers
    "view_identity",
    "view_conversation",  # the inbox, the conversation page and the agent socket
    "change_conversation",  # reply, private notes
    "view_case",
    "change_case",  # assign, resolve, snooze
    "view_event",
    "view_outbox",
    "view_team",
    "view_agentprofile",
    "view_cannedresponse",
]
MANAGERS = [
    *AGENTS,
    "add_cannedresponse",
    "change_cannedresponse",
    "delete_cannedresponse",
    "add_team",
    "change_team",
    "delete_team",
    "add_agentprofile",
    "change_agentprofile",
    "delete_agentprofile",
]


def create_groups(apps, schema_editor):
    # Permissions are normally made after the last migration (post_migrate); make them now
    # so the groups can hold them on a fresh database.
    # (the live app config passes create_permissions' models_module check; the models it
    # reads are the historical ones from `apps`).
    create_permissions(global_apps.get_app_config("conversations"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in [("Agents", AGENTS), ("Managers", MANAGERS)]:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="conversations", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0005_canned_responses"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
