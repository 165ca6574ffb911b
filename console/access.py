"""The one checked way to fetch what an agent may see (views and consumers call these).

Reading the console needs the `conversations.view_conversation` permission, which the
"Agents" and "Managers" groups hold (migration 0006, docs/console.md "Roles"); acting
needs the verb's own permission (`can_act`).
"""

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from conversations.models import Conversation

CONSOLE_PERMISSION = "conversations.view_conversation"


def is_agent(user) -> bool:
    """May this user read the console (pages and the agent socket)?"""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(CONSOLE_PERMISSION)
    )


def can_act(user, permission: str) -> None:
    """Raise PermissionDenied unless this agent holds `permission`, such as
    "conversations.change_case"."""
    if not (is_agent(user) and user.has_perm(permission)):
        raise PermissionDenied("You may not do this: ask a manager for the permission.")


def access_conversation(user, conversation_id: int) -> Conversation:
    """Return the conversation if this user may read it; raise PermissionDenied otherwise.

    Every agent sees every conversation for now; teams narrow this later. A missing id
    and a forbidden one look the same, so ids cannot be probed.
    """
    if not is_agent(user):
        raise PermissionDenied("Agents only.")
    try:
        pk = int(conversation_id)
    except (TypeError, ValueError):
        raise PermissionDenied("No such conversation.") from None
    conversation = Conversation.objects.select_related("customer").filter(pk=pk).first()
    if conversation is None:
        raise PermissionDenied("No such conversation.")
    return conversation


def next_url(request) -> str:
    """Where a console form goes back to (its `next`): a page of this site, else the
    admin's home; never another site a forged link names."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")
