"""The console's consent actions (docs/console.md, "Consent"): "The customer asked us to
stop" (said on a call, at the counter, anywhere an agent heard it), and an agent's answer
to a possible request to stop (consent_review.py): confirm or dismiss.

Thin, like console.py: check access and the permission, call one verb, go back.
"""

from __future__ import annotations

from django.contrib import messages

from base.inputs import ascii_int
from console.access import access_conversation, can_act
from console.views import REPLY, _back
from conversations import consent, consent_review
from conversations.models import Event


def asked_to_stop(request, object_id):
    """The customer told an agent to stop (on a call, in person): every address opts out."""
    conversation = access_conversation(request.user, object_id)
    can_act(request.user, REPLY)
    words = request.POST.get("words", "").strip()[:500]
    consent.opt_out_customer(
        conversation.customer,
        source="agent:asked to stop",
        channel=Event.Channel.AGENT,
        direction=Event.Direction.INTERNAL,
        words=words or "The customer asked us to stop (recorded by an agent).",
        author=request.user,
    )
    messages.success(request, "Recorded: the customer will get no more messages.")
    return _back(conversation)


def review_flag(request, object_id):
    """Confirm (an opt-out) or dismiss a possible request to stop."""
    conversation = access_conversation(request.user, object_id)
    can_act(request.user, REPLY)
    flag = Event.objects.filter(
        conversation=conversation, pk=ascii_int(request.POST.get("flag", "")) or 0
    ).first()
    decision = request.POST.get("decision", "")
    if flag is None or decision not in ("confirm", "dismiss"):
        messages.error(request, "Choose a request to stop, and confirm or dismiss it.")
        return _back(conversation)
    verb = (
        consent_review.confirm_revocation
        if decision == "confirm"
        else (consent_review.dismiss_revocation)
    )
    try:
        verb(flag, by=request.user)
    except consent_review.NotPending as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Opted out: no more messages." if decision == "confirm" else "Dismissed: not a stop.",
        )
    return _back(conversation)
