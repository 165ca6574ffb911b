"""Click-to-call: `call_back` rings the agent first, then bridges the customer.

An agent's "Call back" (the conversation page, THROUGHLINE_CALL_BACK) records a `call`
event with direction out, then asks the voice backend to ring the agent's phone. When
the agent answers, Twilio fetches `/hooks/twilio/voice/bridge/?call=<event id>`, whose
TwiML dials the customer. Progress comes back to the status URL (`?call=` finds the
event even before its CallSid is stored). The network call happens after the event is
committed, never inside a transaction. The call shows the store's number: the number of
ours the customer last wrote to or called, else the shop's default (numbers/senders.py),
and goes through that number's account; the bridge dials the customer from it too.

Consent: STOP governs the messages we send; a call an agent places by hand is not one,
so the customer's newest phone is called whatever its SMS consent.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from channels_adapters.numbers import senders
from channels_adapters.twilio_form import TwilioForm
from channels_adapters.twilio_signature import twilio_webhook
from conversations import journal
from conversations.calls import annotate_call, update_call_status
from conversations.identities import live_customer
from conversations.models import AgentProfile, Conversation, Customer, Event, Identity
from conversations.outbox import Refused, SendError

from . import twiml
from .backends import VoiceCall, get_backend
from .inbound import parse_call_sid


def call_back(*, customer: Customer, agent) -> Event:
    """Start a call from the agent to the customer; return its `call` event.

    Raises `Refused` with a reason the agent can read when no call can be placed.
    """
    profile = AgentProfile.objects.filter(user=agent).exclude(phone="").first()
    if profile is None:
        raise Refused("Add your phone number to your agent profile first: the call rings you.")
    customer = live_customer(customer)
    phone = (
        customer.identities.filter(kind=Identity.Kind.PHONE)
        .order_by("-created_at", "-pk")
        .values_list("value", flat=True)
        .first()
    )
    if phone is None:
        raise Refused("This customer has no phone number to call.")
    conversation_id = (
        Conversation.objects.filter(customer=customer).values_list("pk", flat=True).first()
    )
    sender = senders.caller_id(conversation_id)
    event = journal.record(
        customer=customer,
        channel=Event.Channel.VOICE,
        kind="call",
        direction=Event.Direction.OUT,
        body=f"Call back by {agent}",
        data={"to": phone, "agent": agent.pk, "status": "queued", "caller_id": sender.from_number},
        author=agent,
        delivery_status="queued",
    )
    call = VoiceCall(
        to=profile.phone,
        from_number=sender.from_number,
        url=twiml.url("bridge", call=event.pk),
        status_callback=twiml.url("status", call=event.pk),
        timeout=settings.VOICE_DIAL_TIMEOUT,
    )
    try:
        receipt = get_backend(sender.account).start_call(call)
    except SendError as exc:
        annotate_call(event, error=exc.reason, maybe_started=exc.maybe_sent)
        if not exc.maybe_sent:
            update_call_status(event, "failed")
        raise Refused(exc.reason) from None
    Event.objects.filter(pk=event.pk).filter(source_id=None).update(source_id=receipt.provider_id)
    event.source_id = receipt.provider_id
    return event


@twilio_webhook
def bridge(request: HttpRequest) -> HttpResponse:
    """The agent answered: tell them who, and dial the customer."""
    form = TwilioForm(request.POST, request.GET)  # BadForm: 400 with the reason
    sid = parse_call_sid(form)
    call_id = form.query_id("call")
    event = (
        Event.objects.filter(
            pk=call_id,
            channel=Event.Channel.VOICE,
            kind="call",
            direction=Event.Direction.OUT,
        )
        .select_related("conversation__customer")
        .first()
        if call_id is not None
        else None
    )
    if event is None or event.source_id not in (None, sid):
        return twiml.respond(twiml.goodbye("This call-back is no longer available. Goodbye."))
    name = event.conversation.customer.display_name or "the customer"
    return twiml.respond(
        twiml.connect(
            phone=event.data["to"],
            caller_id=event.data.get("caller_id") or settings.VOICE_FROM_NUMBER,
            say=f"Connecting you to {name}.",
            call=event.pk,
        )
    )
