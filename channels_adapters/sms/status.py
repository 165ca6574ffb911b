"""Delivery status callbacks: `/hooks/twilio/sms/status/` onto the outbound message's event.

Twilio posts `MessageSid`, `MessageStatus` (queued, sent, delivered, undelivered, failed,
...) and `ErrorCode`, in any order and sometimes more than once. The status only moves
forward (`delivery.update_delivery_status`), so `delivered` followed by a late `sent`
stays `delivered`. Our status URL carries `?outbox=<id>` so a callback also settles a
message whose worker never recorded Twilio's answer (see conversations/outbox.py).
Callbacks about messages we do not know get 200, so Twilio does not retry them forever.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from channels_adapters.twilio_form import TwilioForm
from channels_adapters.twilio_signature import twilio_webhook
from conversations import outbox
from conversations.delivery import DELIVERY_STATUS_RANK
from conversations.models import Event

from .inbound import is_whatsapp

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
MAX_ERROR_CODE = 99_999  # Twilio's error codes have five digits


@twilio_webhook
def receive_status(request: HttpRequest) -> HttpResponse:
    if is_whatsapp(request.POST):
        # a WhatsApp sender whose status URL is this one: its message is on `whatsapp`
        from channels_adapters.whatsapp.status import DELIVERY_ERRORS as WHATSAPP_ERRORS

        return record_status(request, channel=Event.Channel.WHATSAPP, errors=WHATSAPP_ERRORS)
    return record_status(request, channel=Event.Channel.SMS, errors=DELIVERY_ERRORS)


def record_status(
    request: HttpRequest,
    *,
    channel: str,
    errors: dict[str, str],
    opt_out_codes: frozenset[str] = frozenset({"21610"}),
) -> HttpResponse:
    """Read one messaging status callback and record it on `channel`'s message (the SMS
    and WhatsApp status webhooks share it; each has its own words for the error codes)."""
    form = TwilioForm(request.POST, request.GET)  # BadForm: 400 with the reason
    sid = form.sid(["MessageSid", "SmsSid"])
    status = form.token(["MessageStatus", "SmsStatus"], required=True)
    # An odd error code is detail, not a reason to lose the status: it is dropped.
    code = form.integer("ErrorCode", high=MAX_ERROR_CODE, keep=False)
    if status in _IGNORED or status not in DELIVERY_STATUS_RANK:
        return HttpResponse(status=204)
    error_code = str(code) if code else ""
    outbox.record_provider_status(
        channel=channel,
        provider_id=sid,
        status=status,
        error_code=error_code,
        reason=errors.get(error_code, f"Twilio error {error_code}." if error_code else ""),
        outbox_id=form.query_id("outbox"),
        opted_out=error_code in opt_out_codes,
    )
    return HttpResponse(status=204)
