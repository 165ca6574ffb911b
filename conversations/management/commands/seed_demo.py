"""`manage.py seed_demo`: demo customers whose one conversation spans several channels.

Idempotent: customers are found by identity and every event carries a `demo:` source id,
so a second run finds everything and writes nothing. Everything goes through the verbs
(`resolve_customer`, `link_identity`, `journal.record`), like real traffic would.
`make run` calls it after `migrate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from conversations import journal
from conversations.identities import link_identity, resolve_customer
from conversations.models import Customer, Event, Identity

DANA_VISITOR = "demo-visitor-7f3a9c"
DANA_EMAIL = "dana.whitfield@example.com"
DANA_PHONE = "+14155550132"  # 555-01xx: reserved for fiction, still a valid US number
MARCUS_PHONE = "+13125550178"
MARCUS_EMAIL = "marcus.chen@example.com"

T900 = {"sku": "T900", "title": "T900 Folding Treadmill", "price": "1299.00", "currency": "USD"}


@dataclass(frozen=True)
class Touch:
    """One seeded event: `ago` before the moment of the first seeding."""

    source_id: str
    ago: timedelta
    channel: str
    kind: str
    direction: str
    body: str
    data: dict = field(default_factory=dict)
    delivery_status: str = ""


DANA_STORY = [
    Touch(
        "demo:dana:pv-t900",
        timedelta(days=3, hours=4, minutes=52),
        "web",
        "page_view",
        "in",
        "Viewed T900 Folding Treadmill",
        {"url": "/products/t900-folding-treadmill", "product": T900},
    ),
    Touch(
        "demo:dana:cart-t900",
        timedelta(days=3, hours=4, minutes=47),
        "web",
        "cart",
        "in",
        "Added T900 Folding Treadmill to the cart ($1,299.00)",
        {"action": "add", "product": T900, "quantity": 1, "cart_total": "1299.00"},
    ),
    Touch(
        "demo:dana:chat-1",
        timedelta(days=3, hours=4, minutes=45),
        "web",
        "message",
        "in",
        "Hi! Before I order: what's the warranty on the T900? Is the motor covered?",
    ),
    Touch(
        "demo:dana:chat-2",
        timedelta(days=3, hours=4, minutes=42),
        "web",
        "message",
        "out",
        "Hi Dana! The T900 has a lifetime warranty on the frame and motor, 3 years on parts "
        "and 1 year on labor. Happy to keep your cart while you decide. - Sam",
    ),
    Touch(
        "demo:dana:sms-nudge",
        timedelta(days=1, hours=20, minutes=30),
        "sms",
        "nudge",
        "out",
        "Hi Dana, your T900 Folding Treadmill is still in your cart. Want to try it first? "
        "It's on the floor at our Union Square store. Reply STOP to opt out.",
        {"rule": "abandoned_cart", "to": DANA_PHONE, "product": T900},
        delivery_status="delivered",
    ),
    Touch(
        "demo:dana:qr-scan",
        timedelta(hours=5, minutes=15),
        "instore",
        "scan",
        "in",
        "Scanned the QR code on the T900 display at Union Square",
        {"store": "Union Square", "placement": "T900 display", "product": T900},
    ),
    Touch(
        "demo:dana:call-1",
        timedelta(hours=4, minutes=40),
        "voice",
        "call",
        "in",
        "Inbound call (4 min 12 s): asked whether the T900 can be delivered this weekend",
        {"from": DANA_PHONE, "duration_seconds": 252, "status": "completed"},
    ),
]

MARCUS_STORY = [
    Touch(
        "demo:marcus:sms-1",
        timedelta(days=1, hours=2, minutes=10),
        "sms",
        "message",
        "in",
        "Do you have the R200 rowing machine in stock at the State Street store?",
    ),
    Touch(
        "demo:marcus:sms-2",
        timedelta(days=1, hours=2, minutes=4),
        "sms",
        "message",
        "out",
        "Hi Marcus, yes: two R200s in stock at State Street. Want us to hold one for you?",
        delivery_status="delivered",
    ),
]


class Command(BaseCommand):
    help = (
        "Create demo customers (Dana Whitfield, Marcus Chen) and their conversations. Idempotent."
    )

    def handle(self, *args, **options):
        before = _counts()
        now = timezone.now().replace(second=0, microsecond=0)
        with transaction.atomic():
            dana = resolve_customer("visitor", DANA_VISITOR, display_name="Dana Whitfield")
            _tell(dana, DANA_STORY, now)
            # She left her email and phone in the chat; linking them after the story keeps
            # the timeline in time order (a link is recorded at the moment it happens).
            dana = link_identity(dana, "email", DANA_EMAIL)
            dana = link_identity(dana, "phone", DANA_PHONE)

            marcus = resolve_customer("phone", MARCUS_PHONE, display_name="Marcus Chen")
            _tell(marcus, MARCUS_STORY, now)
            marcus = link_identity(marcus, "email", MARCUS_EMAIL)

        after = _counts()
        if after == before:
            self.stdout.write("Demo data already present: nothing changed.")
        else:
            added = ", ".join(f"{after[k] - before[k]} {k}" for k in after if after[k] != before[k])
            self.stdout.write(self.style.SUCCESS(f"Seeded demo data: {added}."))
        self.stdout.write(f"Dana Whitfield's conversation: {_admin_url(dana)}")
        self.stdout.write(f"Marcus Chen's conversation: {_admin_url(marcus)}")


def _tell(customer: Customer, story: list[Touch], now: datetime) -> None:
    for touch in story:
        journal.record(
            customer=customer,
            channel=touch.channel,
            kind=touch.kind,
            direction=touch.direction,
            body=touch.body,
            data=touch.data,
            source_id=touch.source_id,
            occurred_at=now - touch.ago,
            delivery_status=touch.delivery_status,
        )


def _counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.count(),
        "identities": Identity.objects.count(),
        "events": Event.objects.count(),
    }


def _admin_url(customer: Customer) -> str:
    path = reverse("admin:conversations_conversation_change", args=[customer.conversation.pk])
    return f"{settings.PUBLIC_BASE_URL}{path}"
