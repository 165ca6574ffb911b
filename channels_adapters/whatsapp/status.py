"""WhatsApp status callbacks: `/hooks/twilio/whatsapp/status/` onto the outbound message.

The same callbacks as SMS (sms/status.py reads them: forward-only statuses, `?outbox=`,
2xx for unknown messages), plus `read` when the customer opened the message (if their
read receipts are on), and WhatsApp's own error codes, 63016 above all: free text sent
outside the 24-hour window.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from channels_adapters.sms.status import DELIVERY_ERRORS as SMS_DELIVERY_ERRORS
from channels_adapters.sms.status import record_status
from channels_adapters.twilio_signature import twilio_webhook
from conversations.models import Event

# Twilio's WhatsApp error codes, in words an agent can act on.
DELIVERY_ERRORS = {
    **SMS_DELIVERY_ERRORS,
    "63003": "The recipient's number is not on WhatsApp.",
    "63016": (
        "Not delivered: outside WhatsApp's 24-hour window, free text is refused. Send an "
        "approved template (THROUGHLINE_WHATSAPP_TEMPLATES) or wait for the customer to write."
    ),
    "63024": "The recipient cannot receive this WhatsApp message.",
    "63032": "WhatsApp would not deliver it to this user (a WhatsApp limitation).",
    "63049": "Meta chose not to deliver this marketing message.",
}


@twilio_webhook
def receive_status(request: HttpRequest) -> HttpResponse:
    return record_status(request, channel=Event.Channel.WHATSAPP, errors=DELIVERY_ERRORS)
