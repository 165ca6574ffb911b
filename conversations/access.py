"""The one checked way to fetch what an agent may see (views and consumers call these)."""

from django.core.exceptions import PermissionDenied

from .models import Conversation


def access_conversation(user, conversation_id: int) -> Conversation:
    """Return the conversation if this user may read it; raise PermissionDenied otherwise.

    Staff see every conversation for now; teams narrow this later. A missing id and a
    forbidden one look the same, so ids cannot be probed.
    """
    if not (user.is_authenticated and user.is_active and user.is_staff):
        raise PermissionDenied("Staff only.")
    conversation = (
        Conversation.objects.select_related("customer").filter(pk=conversation_id).first()
    )
    if conversation is None:
        raise PermissionDenied("No such conversation.")
    return conversation
