"""Twilio's inbound call webhook over HTTP against its floor: `python -m bench.voice_answer`.

The time to answer a call: `POST /hooks/twilio/voice/` resolves the caller, reads their
context (cart, open case, in store), checks the called number's business hours, records
one `call` event and answers with the greeting TwiML. The real server, as in production, on
a scratch database (`throughline_bench_voice_answer`), the load generator and the two
figures are bench/_webhooks.py's, shared with bench.sms_inbound; this script brings the
requests, the seed and the checks.

- Seed: the shop's store on the called number, open around the clock (so every call is
  answered with a greeting, after the hours lookup); three available agents with phones;
  24 known callers: 8 with a cart, 8 with an open case (a text they sent), 8 with neither.
- Webhook: each request a distinct `CallSid`, with Twilio's full field set, signed as
  Twilio signs; three calls in four from the known callers (so they call again, as in a
  shop's day), one in four from a number never seen (a new customer, conversation, case).
- Floor: `POST /bench/floor/voice/` in the same server, the same bodies: one indexed
  SELECT, one INSERT, and a fixed greeting-and-gather TwiML of the webhook's size
  (bench/_floor_urls.py).

Figures: throughput ratio at full load (target >= 0.5), p99 ratio at half rate (<= 2).

Every webhook must answer 200 with a greeting and a <Gather> (not the voicemail of a
database error) and write exactly one call event per CallSid: `errors` and `lost` are
printed, and any makes both figures `short`.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection

from bench import _load as generator
from bench import _webhooks as webhooks  # first: it sets Django up, the models need it
from bench._floor_urls import (
    CALLERS,
    CALLS,
    CREATE_VOICE_FLOOR_TABLES,
    VOICE_FLOOR_PATH,
    voice_floor_twiml,
)
from bench.load.clients import call_form
from channels_adapters.voice import twiml
from commerce.ingest import ingest_event
from conversations import journal
from conversations.context import build_context
from conversations.identities import resolve_customer
from conversations.models import AgentProfile, Case, Conversation, Customer, Event, Identity
from instore.models import WEEKDAYS, Store

DATABASE = "throughline_bench_voice_answer"
WEBHOOK_PATH = "/hooks/twilio/voice/"
FLOOR_PATH = VOICE_FLOOR_PATH

WEBHOOK_REQUESTS = 40_000  # signed in advance, each sent at most once: bounds the run's count
FIRST_WEBHOOK = 1  # POOLS["webhook"][i] carries CallSid _sid(FIRST_WEBHOOK + i)
FLOOR_REQUESTS = 4_000  # the floor needs no distinct sids; its bodies are reused in turn

SHOP_NUMBER = "+14155550100"
NAMES = ["Dana Scully", "Fox Mulder", "Walter Skinner", "Monica Reyes", "John Doggett", "Ana"]
KNOWN_CALLERS = [f"+1415555{n:04d}" for n in range(200, 224)]
WITH_CART, WITH_CASE = KNOWN_CALLERS[:8], KNOWN_CALLERS[8:16]
PRODUCTS = [
    {"sku": "T900", "name": "T900 treadmill", "quantity": 1, "price": "1299.00"},
    {"sku": "B200", "name": "B200 bike", "quantity": 2, "price": "499.50"},
    {"sku": "R10", "name": "Blue rain jacket & hood", "quantity": 1, "price": "89.00"},
]
AGENT_PHONES = ["+14155550171", "+14155550172", "+14155550173"]


def _sid(n: int) -> str:
    return f"CA{n:032x}"


def _caller(n: int) -> str:
    """Calls 4k + 3 come from a number never seen before, the others from known callers."""
    if n % 4 == 3:
        return f"+14158{n:06d}"
    return KNOWN_CALLERS[n % len(KNOWN_CALLERS)]


def _form(n: int) -> dict[str, str]:
    """The fields Twilio posts for one inbound call (numbered `n`), ringing: the load run's form."""
    return call_form(_sid(n), _caller(n), SHOP_NUMBER)


def build_requests(count: int, path: str, *, first: int, signed: bool) -> list[bytes]:
    return [
        webhooks.signed_request(path, _form(n), signed=signed) for n in range(first, first + count)
    ]


def _greets(answer: bytes) -> bool:
    """A greeting that gathers what the call is about: not a voicemail."""
    return answer.endswith(b"</Response>") and b"<Gather " in answer


def pools() -> None:
    generator.POOLS["webhook"] = build_requests(
        WEBHOOK_REQUESTS, WEBHOOK_PATH, first=FIRST_WEBHOOK, signed=True
    )
    generator.POOLS["floor"] = build_requests(FLOOR_REQUESTS, FLOOR_PATH, first=1, signed=False)
    generator.CHECKS["webhook"] = _greets
    generator.CHECKS["floor"] = generator.ends_with(voice_floor_twiml())


def seed() -> None:
    Store.objects.create(
        name="Downtown",
        phone=SHOP_NUMBER,
        time_zone="America/Los_Angeles",
        business_hours={day: [["00:00", "24:00"]] for day in WEEKDAYS},
    )
    users = get_user_model().objects
    for n, phone in enumerate(AGENT_PHONES):
        user = users.create_user(f"agent{n}", f"agent{n}@shop.example", is_staff=True)
        AgentProfile.objects.create(user=user, phone=phone, available=True)
    for n, phone in enumerate(KNOWN_CALLERS):
        customer = resolve_customer(
            Identity.Kind.PHONE, phone, display_name=f"{NAMES[n % len(NAMES)]} {n}"
        )
        if phone in WITH_CART:
            items = [PRODUCTS[n % len(PRODUCTS)]] if n % 2 else PRODUCTS[:2]
            payload = {"currency": "USD", "items": items}
            ingest_event(
                customer=customer, event_id=f"cart-{n}", type="cart_updated", payload=payload
            )
        if phone in WITH_CASE:
            journal.record(
                customer=customer,
                channel=Event.Channel.SMS,
                kind="message",
                direction=Event.Direction.IN,
                body="My package says delivered but it isn't here. Order 48213?",
                source_id=f"SM{n:032x}",
            )
    floor_phones = sorted({_caller(n) for n in range(1, 1 + FLOOR_REQUESTS)} | {_caller(0)})
    with connection.cursor() as cursor:
        cursor.execute(CREATE_VOICE_FLOOR_TABLES)
        cursor.executemany(
            f"INSERT INTO {CALLERS} (phone) VALUES (%s)", [[p] for p in floor_phones]
        )
    for phone in (WITH_CART[1], WITH_CART[0], WITH_CASE[0], KNOWN_CALLERS[-1]):
        context = build_context(resolve_customer(Identity.Kind.PHONE, phone))
        print(f"seed: {phone} hears {twiml.greeting(context)!r}", flush=True)


def probes() -> list[tuple[str, bytes]]:
    """One steady-state webhook (a known caller, a CallSid the load never used), one floor."""
    unsent = FIRST_WEBHOOK + WEBHOOK_REQUESTS
    unsent += 4 - unsent % 4  # a known caller's number
    return [
        (WEBHOOK_PATH, build_requests(1, WEBHOOK_PATH, first=unsent, signed=True)[0]),
        (FLOOR_PATH, build_requests(1, FLOOR_PATH, first=0, signed=False)[0]),
    ]


def check_writes(load: generator.Load) -> tuple[int, int, int]:
    """(errors, lost, floor_lost) over every request of the run, warm-up included.

    errors: webhooks not answered 200 with a greeting; lost: CallSids answered so with no
    call event, plus call events no request asked for (there must be one per CallSid).
    """
    sent_webhooks = load.sent["webhook"]
    errors = sum(1 for o in sent_webhooks if o.status != 200)
    sent = {_sid(FIRST_WEBHOOK + o.index) for o in sent_webhooks}
    answered = {_sid(FIRST_WEBHOOK + o.index) for o in sent_webhooks if o.status == 200}
    written = set(
        Event.objects.filter(
            channel=Event.Channel.VOICE, kind="call", direction=Event.Direction.IN
        ).values_list("source_id", flat=True)
    )
    lost = len(answered - written) + len(written - sent)
    floor_answered, floor_rows = webhooks.floor_writes(load, CALLS)
    print(
        f"webhooks sent: {len(sent_webhooks)} ({len(sent)} distinct CallSids), answered 200 "
        f"with a greeting: {len(answered)}, call events written: {len(written)}; "
        f"customers: {Customer.objects.count()}, conversations: {Conversation.objects.count()}, "
        f"open cases: {Case.objects.exclude(status=Case.Status.RESOLVED).count()}\n"
        f"floor requests answered 200: {floor_answered}, rows written: {floor_rows}\n"
        f"errors: {errors}, lost: {lost}",
        flush=True,
    )
    if len(sent_webhooks) != len(sent):
        raise RuntimeError("a CallSid was sent twice: the load generator is broken")
    return errors, lost, floor_answered - floor_rows


BENCHMARK = webhooks.Benchmark(
    name="voice_answer",
    database=DATABASE,
    pools=pools,
    seed=seed,
    check_writes=check_writes,
    probes=probes,
    throughput_target=0.5,
)


def main() -> None:
    webhooks.run(BENCHMARK)


if __name__ == "__main__":
    main()
