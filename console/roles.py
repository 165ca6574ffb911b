"""The console's roles: Django groups "Agents" and "Managers" and their permissions.

Migration 0006 creates them (with its own frozen copy of these lists); `ensure_roles`
re-creates what is missing on a database that lost them (a flushed test database, a
hand-edited production one), and runs after every `migrate` (apps.py), so managers also
get the permissions other apps name in THROUGHLINE_MANAGER_PERMISSIONS ("app.codename":
insights, export and erasure) once those apps' permissions exist. docs/console.md,
"Roles", says what each permission allows.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from base import plugins

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
ROLES = {"Agents": AGENTS, "Managers": MANAGERS}


def ensure_roles() -> dict[str, Group]:
    """Make sure both groups exist with (at least) their permissions; return them by name."""
    groups = {}
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = Q(content_type__app_label="conversations", codename__in=codenames)
        if name == "Managers":
            for dotted in plugins.paths("manager_permissions"):
                app_label, _, codename = dotted.partition(".")
                wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*Permission.objects.filter(wanted))
        groups[name] = group
    return groups
