"""The journal's after-commit hook (THROUGHLINE_EVENT_HOOKS): scan references in texts.

The SMS adapter knows nothing of stores: it records the text, and after commit this hook
reads it. A "Text us" message from the landing page carries "Ref XXXX-XXXX"; finding one
joins the sender's phone to the scan's visitor (scans.link_reference). "Ref XXXX-XXXX YES"
(the page's consent box was ticked) also opts the number in, with the page's proof.
"""

from __future__ import annotations

import logging

from conversations.models import Event

from .codes import consent_marked, references_in
from .scans import link_reference

logger = logging.getLogger(__name__)

MAX_REFERENCES_PER_TEXT = 3  # a text quoting many references is not a shopper's


def on_event(event: Event) -> None:
    if (event.channel, event.direction, event.kind) != ("sms", "in", "message"):
        return
    phone = (event.data or {}).get("from")
    if not phone:
        return
    for reference in references_in(event.body)[:MAX_REFERENCES_PER_TEXT]:
        says_yes = consent_marked(event.body, reference)
        if (
            link_reference(
                reference=reference, phone=phone, says_yes=says_yes, at=event.occurred_at
            )
            is not None
        ):
            # the event id only: never the number or the text
            logger.info("a scan reference in event %s joined its conversation", event.pk)
