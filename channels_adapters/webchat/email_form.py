"""The "Contact us" email form beside chat and phone: `/widget/email` (docs/email.md).

A shop's contact page shows the form (static/webchat/contact-email.js, a file of its own
beside widget.js). What the visitor writes is an inbound `email` message in the
visitor's own conversation, so the chat, the form and any later mail or call are one
conversation, and the console's answer goes out by email (the last channel).

The address typed is the visitor's word only: a new address is linked to the visitor
unverified; an address that already belongs to another customer is never merged on it
(anyone can type anyone's address): the message says so, and stays with the visitor.
A repeated submission (the same `form_id`) writes one event.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.http import JsonResponse

from conversations import journal
from conversations.identities import (
    InvalidIdentity,
    link_identity,
    normalize_email,
    resolve_customer,
)
from conversations.models import Event, Identity

from .views import WidgetRequest, _error, widget_endpoint

MAX_BODY_CHARS = 5000
MAX_SUBJECT_CHARS = 200
_FORM_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def record_email_form(
    *, visitor_id: str, address: str, subject: str, body: str, form_id: str
) -> Event:
    """File the form's message in the visitor's conversation; return its event."""
    with transaction.atomic():
        customer = resolve_customer(Identity.Kind.VISITOR, visitor_id)
        owner = (
            Identity.objects.filter(kind=Identity.Kind.EMAIL, value=address)
            .values_list("customer_id", flat=True)
            .first()
        )
        data = {"subject": subject, "via": "widget email form", "from": address}
        if owner is None:
            customer = link_identity(customer, Identity.Kind.EMAIL, address)
        elif owner != customer.pk:
            data["address_of_another_customer"] = True  # never merged on a typed address
        return journal.record(
            customer=customer,
            channel=Event.Channel.EMAIL,
            kind="message",
            direction=Event.Direction.IN,
            body=body,
            data=data,
            source_id=f"form:{visitor_id[:40]}:{form_id}",
        )


@widget_endpoint("email")
def email_form(request, call: WidgetRequest):
    try:
        address = normalize_email(str(call.data.get("email", "")))
    except InvalidIdentity as exc:
        return _error(422, str(exc), field="email")
    body = str(call.data.get("body", "")).strip()
    if not body:
        return _error(422, "Write a message.", field="body")
    if len(body) > MAX_BODY_CHARS:
        return _error(422, f"The message may be at most {MAX_BODY_CHARS} characters.", field="body")
    form_id = str(call.data.get("form_id", ""))
    if not _FORM_ID.match(form_id):
        return _error(400, "form_id must be 8 to 64 letters, digits or dashes.", field="form_id")
    subject = str(call.data.get("subject", "")).strip()[:MAX_SUBJECT_CHARS]
    record_email_form(
        visitor_id=call.visitor_id, address=address, subject=subject, body=body, form_id=form_id
    )
    return JsonResponse({"ok": True}, status=201)
