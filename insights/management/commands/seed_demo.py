"""`manage.py seed_demo`: a small shop whose customers fill the console's context panel.

Two stores with business hours and a printable QR label each, a catalogue (the demo
shop's T900, B300 and R500), and three customers in different states:

- Dana Whitfield viewed the T900 in the web shop, put it in her cart and asked about its
  warranty in the chat; now she is in the Union Square store and has scanned the T900's
  label (the panel says "In store now" for INSTORE_PRESENCE_MINUTES after her scan);
- Marcus Chen asked by SMS whether State Street has the R500, then ordered it;
- Priya Raman looked at the B300 twice, then called Union Square twice and nobody
  answered: her case is hot;
- Leo Okafor asked by SMS to be called about delivery and booked a call back for
  tomorrow on his call-back page: he waits for it;
- Ines Duarte texted State Street late at night: her case waits for the opening (and,
  when the store is closed as the demo is seeded, she got the after-hours reply);
- Noah Becker left the B300 in his cart: the cart reminder went to his widget (or waits
  for his quiet hours to end);
- Olivia Park texted STOP: she gets nothing proactive any more;
- Grace Liu chatted in the widget, then texted from her phone; when she verified her
  number the two histories merged into one conversation, and her order named her.

And history for every insights figure: `seed_journeys` (customers marked as seeded),
run once.

Everything goes through the verbs real traffic uses, so each event's data is exactly
what the console and the context read: the widget's `track` and `commerce.ingest` for
views, carts and orders, `instore.scans.record_scan` for the scan, the voice adapter's
`answer_call` and its status handling for the missed calls. Messages are written by
`journal.record` with the data the SMS, web chat and outbox paths give them, dated in
the past (the adapters' verbs stamp "now").

Idempotent: customers are found by identity, shop events and messages carry fixed ids,
stores and placements are found by name, and a scan or a call already made is not made
again; a second run writes nothing. `make run` calls it after `migrate`.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from channels_adapters.voice import missed
from channels_adapters.voice.inbound import InboundCall, answer_call
from channels_adapters.voice.status import find_call
from channels_adapters.webchat import inbound as webchat
from channels_adapters.webchat.demo import PRODUCTS
from commerce.ingest import ingest_event
from commerce.models import Order, Product
from conversations import consent, journal
from conversations.calls import update_call_status
from conversations.identities import link_identity, resolve_customer
from conversations.models import Case, Customer, Event, Identity
from conversations.names import offer_name
from engagement import arbiter
from engagement.models import Nudge
from insights.models import Outcome
from insights.outcomes import record_shown
from insights.seed import seed_journeys
from instore.models import Placement, Scan, Store
from instore.scans import record_scan
from routing import hours as routing_hours
from routing import rules as routing_rules
from routing.callbacks import schedule_call_back
from routing.models import ScheduledCallBack
from routing.triage import wait_after_hours

DANA_VISITOR = "demo-visitor-7f3a9c"
DANA_EMAIL = "dana.whitfield@example.com"
DANA_PHONE = "+14155550132"  # 555-01xx: reserved for fiction, still a valid US number
MARCUS_PHONE = "+13125550178"
MARCUS_EMAIL = "marcus.chen@example.com"
PRIYA_PHONE = "+14155550147"
LEO_PHONE = "+13125550161"
INES_PHONE = "+13125550162"
NOAH_VISITOR = "demo-visitor-2b8e41"
OLIVIA_PHONE = "+14155550163"
GRACE_VISITOR = "demo-visitor-c41d07"
GRACE_PHONE = "+14155550164"
NOAH_NUDGE = "demo:noah:cart_abandoned:1"
HISTORY_CUSTOMERS = 30  # seed_journeys: enough for every insights figure
UNION_SQUARE_PHONE = "+14155550100"  # the store's Twilio number: its calls' "To"

UNION_SQUARE = {
    "name": "Union Square",
    "address": "170 O'Farrell St, San Francisco, CA 94102",
    "time_zone": "America/Los_Angeles",
    "phone": UNION_SQUARE_PHONE,
    "business_hours": {
        **{day: [["10:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        "sat": [["10:00", "18:00"]],
        "sun": [["11:00", "17:00"]],
    },
}
STATE_STREET = {
    "name": "State Street",
    "address": "120 N State St, Chicago, IL 60602",
    "time_zone": "America/Chicago",
    "phone": "+13125550100",
    "business_hours": {
        **{day: [["09:00", "19:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        "sat": [["10:00", "17:00"]],
        "sun": [],
    },
}
# (store, sku, where the label stands): one printable QR label each
PLACEMENTS = [
    (UNION_SQUARE, "T900", "treadmill row, by the window"),
    (STATE_STREET, "R500", "rowing corner, first floor"),
]
DEMO_AGENT = {"username": "sam.ortiz", "first_name": "Sam", "last_name": "Ortiz"}


def product(sku: str, **extra) -> dict:
    """A `product_viewed` payload for one of the demo shop's products (webchat/demo.py)."""
    item = next(p for p in PRODUCTS if p["sku"] == sku)
    return {
        "sku": sku,
        "name": item["name"],
        "price": item["price"],
        "currency": item["currency"],
        "url": f"{settings.PUBLIC_BASE_URL}/widget/demo/products/{item['slug']}/",
        **extra,
    }


def line(sku: str) -> dict:
    item = next(p for p in PRODUCTS if p["sku"] == sku)
    return {"sku": sku, "name": item["name"], "quantity": 1, "price": item["price"]}


def twilio_sid(prefix: str, seed: str) -> str:
    """A fixed, well-formed Twilio sid ("SM…", "CA…") per seeded message or call."""
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:32]


class Command(BaseCommand):
    help = "Create the demo shop: stores, labels, products, customers, history. Idempotent."

    def handle(self, *args, **options):
        before = _counts()
        # The first run's moment, to the minute: the stories are told back from it.
        now = timezone.now().replace(second=0, microsecond=0)
        sam = _demo_agent()
        dana = _dana_shops_online(now, sam)
        marcus = _marcus_orders(now, sam)
        priya = _priya_browses(now)
        stores = [_store(UNION_SQUARE), _store(STATE_STREET)]
        for store_fields, sku, label in PLACEMENTS:
            _placement(store_fields, sku, label)
        dana = _dana_scans_in_store(dana, now)
        _priya_calls_twice()
        leo = _leo_books_a_call_back(now)
        ines = _ines_texts_after_hours(now)
        noah = _noah_is_nudged(now)
        olivia = _olivia_says_stop(now)
        grace = _grace_merges_two_channels(now)
        if not Customer.objects.filter(traits__seed=True).exists():
            seed_journeys(customers=HISTORY_CUSTOMERS, journeys=4)
        # what the agent's panel suggested for them (its ranker records this on display)
        for who, actions in [
            (dana, ["in_store", "cart"]),
            (priya, ["call_back", "product"]),
            (noah, ["cart"]),
            (leo, ["answer"]),
        ]:
            if not Outcome.objects.filter(customer=who).exists():
                record_shown(who, actions, personas=[], now=now - timedelta(hours=1))

        after = _counts()
        if after == before:
            self.stdout.write("Demo data already present: nothing changed.")
        else:
            added = ", ".join(
                f"{k} +{after[k] - before[k]}" for k in after if after[k] != before[k]
            )
            self.stdout.write(self.style.SUCCESS(f"Seeded demo data: {added}."))
        # quickstart reads Dana's line (its banner links her conversation)
        self.stdout.write(f"Dana Whitfield's conversation: {_admin_url(dana)}")
        self.stdout.write(f"Marcus Chen's conversation: {_admin_url(marcus)}")
        self.stdout.write(f"Priya Raman's conversation: {_admin_url(priya)}")
        for name, who in [
            ("Leo Okafor", leo),
            ("Ines Duarte", ines),
            ("Noah Becker", noah),
            ("Olivia Park", olivia),
            ("Grace Liu", grace),
        ]:
            self.stdout.write(f"{name}'s conversation: {_admin_url(who)}")
        labels = reverse("admin:instore_store_labels")
        ids = "&".join(f"store={store.pk}" for store in stores)
        self.stdout.write(
            f"Printable labels: {settings.PUBLIC_BASE_URL}{labels}?paper=letter&{ids}"
        )


# ------------------------------------------------------------------------------ stories


def _dana_shops_online(now: datetime, sam) -> Customer:
    """Three days ago, in the web shop: the T900, her cart, a question in the chat."""
    dana = resolve_customer("visitor", DANA_VISITOR, display_name="Dana Whitfield")
    _track(
        DANA_VISITOR,
        "product_viewed",
        product("T900", needs_assembly=False),
        "pv-t900",
        now - timedelta(days=3, hours=4, minutes=52),
    )
    cart = {"cart_id": "demo-cart-dana", "currency": "USD", "items": [line("T900")]}
    _track(
        DANA_VISITOR,
        "cart_updated",
        cart,
        "cart-t900",
        now - timedelta(days=3, hours=4, minutes=47),
    )
    _message(
        dana,
        "web",
        "in",
        "Hi! Before I order: what's the warranty on the T900? Is the motor covered?",
        source_id=f"{DANA_VISITOR}:demo-1",  # the widget's: visitor id and client id
        at=now - timedelta(days=3, hours=4, minutes=45),
    )
    _message(
        dana,
        "web",
        "out",
        "Hi Dana! The T900 has a lifetime warranty on the frame and motor, 3 years on parts "
        "and 1 year on labor. You can also try it at our Union Square store.",
        source_id="demo:dana:web-reply-1",
        at=now - timedelta(days=3, hours=4, minutes=42),
        author=sam,
        delivery_status="sent",  # the web channel's: recorded is delivered
    )
    return dana


def _dana_scans_in_store(dana: Customer, now: datetime) -> Customer:
    """Today she is at Union Square and scans the T900's label; then she leaves her
    email and phone (linked after the scan: a link is recorded when it happens, so the
    timeline stays in time order)."""
    placement = Placement.objects.get(store__name=UNION_SQUARE["name"], product__sku="T900")
    # record_scan dedupes within a time bucket only: a later run must not scan again
    if not Scan.objects.filter(visitor_id=DANA_VISITOR, placement=placement).exists():
        record_scan(placement=placement, visitor_id=DANA_VISITOR, at=now - timedelta(minutes=10))
    dana = link_identity(dana, "email", DANA_EMAIL)
    return link_identity(dana, "phone", DANA_PHONE)


def _marcus_orders(now: datetime, sam) -> Customer:
    """Yesterday: a text to State Street about the R500, an answer, then his order."""
    marcus = resolve_customer("phone", MARCUS_PHONE, display_name="Marcus Chen")
    store_phone = STATE_STREET["phone"]
    _message(
        marcus,
        "sms",
        "in",
        "Do you have the R500 rowing machine in stock at the State Street store?",
        source_id=twilio_sid("SM", "demo:marcus:sms-1"),
        data={"from": MARCUS_PHONE, "to": store_phone, "segments": 1},
        at=now - timedelta(days=1, hours=2, minutes=10),
    )
    _message(
        marcus,
        "sms",
        "out",
        "Hi Marcus, yes: two R500s in stock at State Street, and we deliver and assemble it.",
        source_id="demo:marcus:sms-reply-1",
        data={"to": MARCUS_PHONE},  # the outbox's
        at=now - timedelta(days=1, hours=2, minutes=4),
        author=sam,
        delivery_status="delivered",
    )
    _shop_event(
        marcus,
        "product_viewed",
        product("R500", needs_assembly=True),
        "demo:marcus:pv-r500",
        now - timedelta(days=1, hours=1, minutes=30),
    )
    order = {"order_id": "DEMO-1001", "currency": "USD", "items": [line("R500")]}
    _shop_event(
        marcus, "order_placed", order, "demo:marcus:order-1001", now - timedelta(days=1, hours=1)
    )
    return link_identity(marcus, "email", MARCUS_EMAIL)


def _priya_browses(now: datetime) -> Customer:
    """The B300, twice, from the shop's servers (she is signed in by phone)."""
    priya = resolve_customer("phone", PRIYA_PHONE, display_name="Priya Raman")
    for n, ago in enumerate([timedelta(days=2, hours=3), timedelta(hours=20)], start=1):
        _shop_event(
            priya,
            "product_viewed",
            product("B300", needs_assembly=True),
            f"demo:priya:pv-b300-{n}",
            now - ago,
        )
    return priya


def _priya_calls_twice() -> None:
    """Two calls to Union Square that nobody answers: the second makes her case hot (the
    voice adapter's rule, VOICE_HOT_MISSED_CALLS within VOICE_HOT_WINDOW_MINUTES).

    As the webhooks would: the call is answered by `answer_call`, then its final status
    "no-answer" arrives; after hours voicemail was offered, and its grace is over at once
    (the Celery task would settle it two minutes later)."""
    for n in (1, 2):
        sid = twilio_sid("CA", f"demo:priya:call-{n}")
        if find_call(sid) is not None:
            continue  # made on an earlier run
        answer_call(
            InboundCall(sid=sid, from_number=PRIYA_PHONE, to=UNION_SQUARE_PHONE, status="ringing")
        )
        event = Event.objects.get(channel=Event.Channel.VOICE, source_id=sid)
        with transaction.atomic():  # as the status callback: the call row stays locked
            if update_call_status(event, "no-answer", sequence=2, duration=0):
                missed.call_ended(event)
        missed.settle(event.pk, grace_over=True)


def _leo_books_a_call_back(now: datetime) -> Customer:
    """This morning: a text about delivery, then a call back booked for tomorrow 11:00
    (Chicago) on his call-back page (the page's verb, `schedule_call_back`)."""
    leo = resolve_customer("phone", LEO_PHONE, display_name="Leo Okafor")
    _message(
        leo,
        "sms",
        "in",
        "Could someone call me about delivering the R500 to a 3rd-floor walk-up?",
        source_id=twilio_sid("SM", "demo:leo:sms-1"),
        data={"from": LEO_PHONE, "to": STATE_STREET["phone"], "segments": 1},
        at=now - timedelta(hours=3),
    )
    if not ScheduledCallBack.objects.filter(customer=leo).exists():
        zone = zoneinfo.ZoneInfo(STATE_STREET["time_zone"])
        tomorrow = (now.astimezone(zone) + timedelta(days=1)).replace(hour=11, minute=0)
        schedule_call_back(
            customer=leo, slot=tomorrow, time_zone=STATE_STREET["time_zone"], by_customer=True
        )
    return leo


def _ines_texts_after_hours(now: datetime) -> Customer:
    """Late last night, a text to State Street: routing's after-hours verb makes the case
    wait for the opening and (the store being closed now) sends the acknowledgement."""
    ines = resolve_customer("phone", INES_PHONE, display_name="Ines Duarte")
    if Event.objects.filter(conversation__customer=ines, data__action="after_hours").exists():
        return ines
    text = _message(
        ines,
        "sms",
        "in",
        "Hi, is the T900 still on sale tomorrow? I'd like to come in and try it.",
        source_id=twilio_sid("SM", "demo:ines:sms-1"),
        data={"from": INES_PHONE, "to": STATE_STREET["phone"], "segments": 1},
        at=now - timedelta(hours=9),
    )
    store = routing_hours.store_for(routing_rules.current().stores, STATE_STREET["phone"])
    wait_after_hours(Case.objects.get(pk=text.case_id), text, store)
    return ines


def _noah_is_nudged(now: datetime) -> Customer:
    """Yesterday the B300 went into his cart and stayed there: the cart reminder, through
    the arbiter (to his widget; at night on his clock it waits for the morning)."""
    noah = resolve_customer("visitor", NOAH_VISITOR, display_name="Noah Becker")
    _track(NOAH_VISITOR, "product_viewed", product("B300"), "noah-pv-b300", now - timedelta(days=1))
    cart = {"cart_id": "demo-cart-noah", "currency": "USD", "items": [line("B300")]}
    _track(NOAH_VISITOR, "cart_updated", cart, "noah-cart", now - timedelta(hours=23))
    if Nudge.objects.filter(dedupe_key=NOAH_NUDGE).exists():
        return noah  # proposed on an earlier run (a repeat would record a "duplicate")
    arbiter.propose(
        noah,
        rule="cart_abandoned",
        step=1,
        dedupe_key=NOAH_NUDGE,
        topic="cart_reminders",
        body="Still thinking about the B300 Studio Bike? It's in your cart; ask us anything.",
        channels=("web",),
    )
    return noah


def _olivia_says_stop(now: datetime) -> Customer:
    """She texted STOP to Union Square: the consent verb records it; nothing proactive
    reaches her number any more."""
    olivia = resolve_customer("phone", OLIVIA_PHONE, display_name="Olivia Park")
    phone = Identity.objects.get(kind="phone", value=OLIVIA_PHONE)
    if phone.opted_out_at is None:
        consent.opt_out(
            phone,
            source="sms:STOP",
            channel=Event.Channel.SMS,
            direction=Event.Direction.IN,
            body="STOP",
            source_id=twilio_sid("SM", "demo:olivia:stop"),
            occurred_at=now - timedelta(days=2),
        )
    return olivia


def _grace_merges_two_channels(now: datetime) -> Customer:
    """A chat in the widget, then a text from her phone: two customers until she verified
    her number in the widget ("Continue by SMS"), which merged them; her order named her."""
    on_web = resolve_customer("visitor", GRACE_VISITOR)
    _message(
        on_web,
        "web",
        "in",
        "Does the R500 come with a warranty on the seat rail?",
        source_id=f"{GRACE_VISITOR}:demo-1",
        at=now - timedelta(days=1, hours=5),
    )
    by_sms = resolve_customer("phone", GRACE_PHONE)
    _message(
        by_sms,
        "sms",
        "in",
        "It's Grace from the chat earlier - still keen on the R500 warranty answer.",
        source_id=twilio_sid("SM", "demo:grace:sms-1"),
        data={"from": GRACE_PHONE, "to": UNION_SQUARE_PHONE, "segments": 1},
        at=now - timedelta(days=1, hours=4),
    )
    grace = link_identity(on_web, "phone", GRACE_PHONE, verified=True)  # merges the two
    order = {
        "order_id": "DEMO-1002",
        "currency": "USD",
        "items": [line("R500")],
        "customer_name": "Grace Liu",
    }
    _shop_event(grace, "order_placed", order, "demo:grace:order-1002", now - timedelta(hours=2))
    offer_name(grace, "Grace Liu", source="order", detail="DEMO-1002")
    return grace


# ------------------------------------------------------------------------------ helpers


def _demo_agent():
    """The agent who answered the demo's messages: a name on them, no login."""
    user, created = get_user_model().objects.get_or_create(
        username=DEMO_AGENT["username"],
        defaults={"first_name": DEMO_AGENT["first_name"], "last_name": DEMO_AGENT["last_name"]},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _store(fields: dict) -> Store:
    store, _ = Store.objects.get_or_create(
        name=fields["name"], defaults={k: v for k, v in fields.items() if k != "name"}
    )
    return store


def _placement(store_fields: dict, sku: str, label: str) -> Placement:
    placement, _ = Placement.objects.get_or_create(
        store=Store.objects.get(name=store_fields["name"]),
        product=Product.objects.get(sku=sku),
        defaults={"label": label},
    )
    return placement


def _track(visitor_id: str, type: str, payload: dict, event_id: str, at: datetime) -> Event:
    """What the widget's `Throughline.track` does for a browsing visitor."""
    return webchat.track(
        visitor_id=visitor_id,
        type=type,
        payload=payload,
        event_id=f"demo-{event_id}",
        occurred_at=at,
    )


def _shop_event(customer: Customer, type: str, payload: dict, event_id: str, at) -> Event:
    """What `POST /api/v1/events` does with one event of the shop's servers."""
    return ingest_event(
        customer=customer,
        event_id=event_id,
        type=type,
        payload=payload,
        occurred_at=at,
        channel=Event.Channel.API,
    )


def _message(
    customer, channel, direction, body, *, source_id, at, data=None, author=None, delivery_status=""
) -> Event:
    return journal.record(
        customer=customer,
        channel=channel,
        kind="message",
        direction=direction,
        body=body,
        data=data,
        source_id=source_id,
        occurred_at=at,
        author=author,
        delivery_status=delivery_status,
    )


def _counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.count(),
        "identities": Identity.objects.count(),
        "events": Event.objects.count(),
        "stores": Store.objects.count(),
        "placements": Placement.objects.count(),
        "scans": Scan.objects.count(),
        "products": Product.objects.count(),
        "orders": Order.objects.count(),
    }


def _admin_url(customer: Customer) -> str:
    path = reverse("admin:conversations_conversation_change", args=[customer.conversation.pk])
    return f"{settings.PUBLIC_BASE_URL}{path}"
