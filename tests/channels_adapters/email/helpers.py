"""Customers with an email address, our answers delivered through the locmem backend."""

from django.core import mail

from channels_adapters.email.models import Mail
from channels_adapters.email.outbound import reply_by_email
from conversations import outbox
from conversations.models import Customer, Event, Identity, Outbox
from tests.factories import CustomerFactory

DANA = "dana.rivera@gmail.com"
MARCUS = "marcus.webb@outlook.com"


def emailing_customer(address: str = DANA, **fields) -> Customer:
    customer = CustomerFactory(**fields)
    Identity.objects.create(customer=customer, kind="email", value=address)
    return customer


def answer(customer: Customer, body: str = "Hi! Saturday works.", **kwargs) -> tuple[Event, Mail]:
    """An agent's answer by email, delivered now; (its event, its Mail row)."""
    event = reply_by_email(customer=customer, body=body, **kwargs)
    assert outbox.deliver(Outbox.objects.get(event=event).pk) == "sent"
    return event, Mail.objects.get(event=event)


def last_sent():
    return mail.outbox[-1]
