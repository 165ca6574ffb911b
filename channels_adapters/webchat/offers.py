"""In-the-moment offers in the widget (docs/routing.md, "In the moment").

The widget adapter knows nothing of routing: it tells the dotted paths of
WIDGET_PRESENCE_HOOKS that a shopper opened the widget (each called with the customer and
`channel="web"`), shows `offer` events (web, out) as a pop-up, and hands the shopper's
answer to WIDGET_OFFER_HANDLER, which returns `{"ok": bool, "message": str}`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from base import plugins
from conversations.models import Conversation

logger = logging.getLogger(__name__)

OFFER_KIND = "offer"
CHOICES = ("call_now", "schedule")


def announce_presence(conversation_id: int) -> None:
    """The shopper of this conversation has the widget open now."""
    hooks = plugins.paths("presence_hooks")
    if not hooks:
        return
    conversation = (
        Conversation.objects.select_related("customer").filter(pk=conversation_id).first()
    )
    if conversation is None:
        return
    for path in hooks:
        try:
            import_string(path)(conversation.customer, channel="web")
        except Exception:
            # An offer that fails must never keep the shopper from chatting.
            logger.exception("widget presence hook %s failed", path)


def is_offer(payload: dict) -> bool:
    return payload.get("kind") == OFFER_KIND and payload.get("direction") == "out"


def offer_frame(payload: dict) -> dict:
    """The shopper's view of an `offer` event: its text and its choices, nothing else."""
    data = payload.get("data") or {}
    actions = [
        {key: action[key] for key in ("id", "label", "url") if key in action}
        for action in data.get("actions", [])
        if isinstance(action, dict) and action.get("id") in CHOICES
    ]
    return {"id": data.get("offer"), "body": payload.get("body", ""), "actions": actions}


def answer(*, conversation_id: int, offer: int, choice: str) -> dict:
    path = settings.WIDGET_OFFER_HANDLER
    if not path:
        return {"ok": False, "message": "Offers are not available."}
    try:
        return import_string(path)(conversation_id=conversation_id, offer=offer, choice=choice)
    except Exception:
        logger.exception("widget offer handler %s failed", path)
        return {"ok": False, "message": "Sorry, something went wrong. Please try again."}
