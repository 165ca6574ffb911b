"""A customer with something personal in every table that can hold it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from channels_adapters.sms.backends import LocmemBackend as SmsLocmem
from channels_adapters.voice.backends import LocmemBackend as VoiceLocmem
from channels_adapters.webchat.models import PhoneVerification, Site
from commerce.models import Cart, Order
from conversations import journal, outbox
from conversations.identities import link_identity, resolve_customer
from conversations.models import Customer, Event
from engagement.models import Nudge
from instore.scans import record_scan
from tests.instore.factories import PlacementFactory

MESSAGE_SID = "MM" + "a1" * 16
MEDIA_SID = "ME" + "b2" * 16
CALL_SID = "CA" + "c3" * 16
RECORDING_SID = "RE" + "d4" * 16


@dataclass
class History:
    customer: Customer
    # every value that identifies or was said by the customer
    personal: list[str]
    events: int


@pytest.fixture
def sent_and_deleted():
    SmsLocmem.sent.clear()
    SmsLocmem.deleted.clear()
    VoiceLocmem.deleted_recordings.clear()
    yield SmsLocmem.deleted, VoiceLocmem.deleted_recordings
    SmsLocmem.sent.clear()
    SmsLocmem.deleted.clear()
    VoiceLocmem.deleted_recordings.clear()


def build_history(
    *, name="Zelda Quenby-Marsh", phone="+14155550177", visitor="v_zq77erasable", tag="Quenby"
) -> History:
    """One shopper across every channel, with names, numbers, words, media and a voicemail."""
    email = f"{visitor}@example.org"
    customer = resolve_customer("visitor", visitor)
    Customer.objects.filter(pk=customer.pk).update(
        display_name=name, traits={"nickname": f"Zeezee-{tag}", "vip": True}, locale="en-GB"
    )
    customer = link_identity(customer, "phone", phone, verified=True)
    customer = link_identity(customer, "email", email, verified=True)
    media_url = (
        f"https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/{MESSAGE_SID}/Media/{MEDIA_SID}"
    )
    journal.record(
        identity=("phone", phone),
        channel=Event.Channel.SMS,
        kind="message",
        direction=Event.Direction.IN,
        body=f"My flat is at 9 {tag} Lane, ring twice",
        data={
            "from": phone,
            "to": "+14155550100",
            "media": [{"url": media_url, "content_type": "image/jpeg"}],
        },
        source_id=MESSAGE_SID,
    )
    outbox.send(
        customer=customer, channel="sms", body=f"Thanks, we will deliver to {tag} Lane on Friday"
    )
    journal.record(
        customer=customer,
        channel=Event.Channel.WEB,
        kind="message",
        direction=Event.Direction.IN,
        body=f"Can the courier leave it with Mrs Pemberton-{tag} next door?",
        source_id=f"{visitor}:client-1",
    )
    journal.record(
        customer=customer,
        channel=Event.Channel.VOICE,
        kind="call",
        direction=Event.Direction.IN,
        body="Voicemail",
        data={
            "from": phone,
            "recording_sid": RECORDING_SID,
            "recording_url": f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{RECORDING_SID}",
            "transcript": f"Hello it is {tag} about the treadmill, delivery code 4471",
        },
        source_id=CALL_SID,
    )
    record_scan(placement=PlacementFactory(), visitor_id=visitor)
    site = Site.objects.create(name=f"Shop {phone[-4:]}")
    PhoneVerification.objects.create(
        site=site,
        visitor_id=visitor,
        phone=phone,
        code_hash="x",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    cart = Cart.objects.create(
        customer=customer, value=Decimal("1299.00"), item_count=1, currency="USD"
    )
    Order.objects.create(
        external_id=f"ord-{phone[-4:]}",
        customer=customer,
        cart=cart,
        currency="USD",
        total=Decimal("1299.00"),
        items=[
            {
                "sku": "T900",
                "name": "T900 Folding Treadmill",
                "quantity": 1,
                "unit_price": "1299.00",
            }
        ],
        placed_at=timezone.now(),
    )
    Nudge.objects.create(
        customer=customer,
        rule="cart_abandoned",
        dedupe_key=f"cart:{phone[-4:]}",
        topic="cart_reminders",
        body=f"Hi Dear-{tag}, your treadmill is waiting",
        data={"to": phone},
        due_at=timezone.now(),
    )
    customer.refresh_from_db()
    personal = [
        f"Dear-{tag}",
        name,
        f"Zeezee-{tag}",
        phone,
        phone.removeprefix("+"),
        email,
        visitor,
        f"9 {tag} Lane",
        f"deliver to {tag} Lane",
        f"Mrs Pemberton-{tag}",
        f"Hello it is {tag}",
        MEDIA_SID,
        f"Recordings/{RECORDING_SID}",
    ]
    return History(
        customer=customer, personal=personal, events=customer.conversation.events.count()
    )


@pytest.fixture
def history(sent_and_deleted):
    return build_history()


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user("maria", password="pw-maria", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="privacy", codename__in=["export_customer", "erase_customer"]
        )
    )
    return user
