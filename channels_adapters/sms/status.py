"""Delivery status callbacks: `/hooks/twilio/sms/status/` onto the outbound message's event.

Twilio posts `MessageSid`, `MessageStatus` (queued, sent, delivered, undelivered, failed,
...) and `ErrorCode`, in any order and sometimes more than once. The status only moves
forward (`delivery.update_delivery_status`), so `delivered` followed by a late `sent`
stays `delivered`. Our status URL carries `?outbox=<id>` so a callback also settles a
message whose worker never recorded Twilio's answer (see conversations/outbox.py).
Callbacks about messages we do not know get 200, so Twilio does not retry them forever.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from channels_adapters.twilio_signature import twilio_webhook
from conversations import outbox
from conversations.delivery import DELIVERY_STATUS_RANK
from conversations.models import Event

from .inbound import MESSAGE_SID

# Twilio's delivery error codes, in words an agent can act on.
DELIVERY_ERRORS = {
    "21610": "The recipient replied STOP; Twilio blocks messages to them until they reply START.",
    "30003": "The phone is switched off or out of reach.",
    "30004": "The recipient blocked messages from this number.",
    "30005": "The number does not exist or is no longer in service.",
    "30006": "The number is a landline or cannot receive SMS.",
    "30007": "The carrier filtered the message as spam.",
    "30008": "The carrier could not deliver it (unknown error).",
}
# Statuses of inbound messages or of our own making: not for a provider to set.
_IGNORED = frozenset({"", "pending", "unconfirmed", "receiving", "received"})


@twilio_webhook
def receive_status(request: HttpRequest) -> HttpResponse:
    form = request.POST
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not MESSAGE_SID.match(sid) or not status:
        return HttpResponseBadRequest(
            "MessageSid and MessageStatus are required.\n", content_type="text/plain"
        )
    if status in _IGNORED or status not in DELIVERY_STATUS_RANK:
        return HttpResponse(status=204)
    error_code = form.get("ErrorCode", "")[:16]
    outbox_id = request.GET.get("outbox", "")
    outbox.record_provider_status(
        channel=Event.Channel.SMS,
        provider_id=sid,
        status=status,
        error_code=error_code,
        reason=DELIVERY_ERRORS.get(error_code, f"Twilio error {error_code}." if error_code else ""),
        outbox_id=int(outbox_id) if outbox_id.isdigit() else None,
        opted_out=error_code == "21610",
    )
    return HttpResponse(status=204)
