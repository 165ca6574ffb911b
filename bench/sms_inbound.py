"""Twilio's inbound-SMS webhook over HTTP against its floor: `python -m bench.sms_inbound`.

The real server, as in production, on a scratch database (`throughline_bench_sms_inbound`),
the load generator and the two figures are bench/_webhooks.py's, shared with
bench.voice_answer; this script brings the requests, the seed and the checks.

- Webhook: `POST /hooks/twilio/sms/`, each request a distinct `MessageSid` from one of a
  handful of numbers (so customers repeat, as in a shop's day), signed as Twilio signs
  (the auth token over PUBLIC_BASE_URL + path and the form), with Twilio's full field set.
- Numbers: the shop's and 50 stores' numbers are rows of one account (seed_numbers), so
  every webhook finds the account owning its `To` before checking the signature.
- Floor: `POST /bench/floor/sms/` in the same server, the same bodies: one indexed SELECT,
  one INSERT, the same empty TwiML (bench/_floor_urls.py).

Figures: throughput ratio at full load (target >= 0.6), p99 ratio at half rate (<= 2).

Every webhook must answer 200 with the empty TwiML and write exactly one event per
MessageSid: `errors` and `lost` are printed, and any makes both figures `short`.
"""

from __future__ import annotations

from django.db import connection

from bench import _load as generator
from bench import _webhooks as webhooks  # first: it sets Django up, the models need it
from bench._floor_urls import CREATE_SMS_FLOOR_TABLES, MESSAGES, SENDERS, SMS_FLOOR_PATH
from bench.load.clients import sms_form
from channels_adapters.sms.inbound import EMPTY_TWIML
from conversations.models import Conversation, Customer, Event

DATABASE = "throughline_bench_sms_inbound"
WEBHOOK_PATH = "/hooks/twilio/sms/"
FLOOR_PATH = SMS_FLOOR_PATH

WEBHOOK_REQUESTS = 40_000  # signed in advance, each sent at most once: bounds the run's count
FIRST_WEBHOOK = 1  # POOLS["webhook"][i] carries MessageSid _sid(FIRST_WEBHOOK + i)
FLOOR_REQUESTS = 4_000  # the floor needs no distinct sids; its bodies are reused in turn

SHOP_NUMBER = "+14155550100"
ACCOUNT_SID = "AC" + "0" * 32  # the AccountSid of bench.load.clients.sms_form
SENDERS_PHONES = [f"+1415555{n:04d}" for n in range(110, 122)]  # 12 customers who text again
BODIES = [
    "Hi! Is the blue rain jacket from the window still there in a medium?",
    "Can I pick up my order tomorrow instead of today? Something came up at work.",
    "Thanks, got it",
    "Do you have the T900 in stock? Saw it on your site but it says limited availability.",
    "What time do you close on Saturday?",
    "My package says delivered but it isn't here. Order 48213, can you check please?",
    "ok see you at 6",
    "Is there parking near the store? Last time I had to circle for twenty minutes and "
    "almost gave up. Also can I bring my dog in?",
    "Could you hold the size 9 for me until Friday?",
    "👍",
]


def _sid(n: int) -> str:
    return f"SM{n:032x}"


def _form(n: int, phone: str, body: str) -> dict[str, str]:
    """The fields Twilio posts for one inbound SMS (numbered `n`): the load run's form."""
    return {**sms_form(_sid(n), phone, SHOP_NUMBER), "Body": body}


def build_requests(count: int, path: str, *, first: int, signed: bool) -> list[bytes]:
    return [
        webhooks.signed_request(
            path,
            _form(n, SENDERS_PHONES[n % len(SENDERS_PHONES)], BODIES[n % len(BODIES)]),
            signed=signed,
        )
        for n in range(first, first + count)
    ]


def pools() -> None:
    generator.POOLS["webhook"] = build_requests(
        WEBHOOK_REQUESTS, WEBHOOK_PATH, first=FIRST_WEBHOOK, signed=True
    )
    generator.POOLS["floor"] = build_requests(FLOOR_REQUESTS, FLOOR_PATH, first=1, signed=False)
    generator.CHECKS["webhook"] = generator.CHECKS["floor"] = generator.ends_with(EMPTY_TWIML)


def seed() -> None:
    seed_numbers()
    with connection.cursor() as cursor:
        cursor.execute(CREATE_SMS_FLOOR_TABLES)
        cursor.executemany(
            f"INSERT INTO {SENDERS} (phone) VALUES (%s)", [[p] for p in SENDERS_PHONES]
        )


STORES = 50  # numbers besides the shop's: each webhook's owner is found among them


def seed_numbers() -> None:
    """The shop's number and one per store as rows (docs/twilio.md, "Several numbers and
    accounts"), so each webhook is checked by the account owning its `To`: the look-up is
    inside the figures. The account's token is the server's TWILIO_AUTH_TOKEN, by name."""
    from channels_adapters.numbers.models import MessagingNumber, TwilioAccount
    from instore.models import Store

    # the scratch database's migration may have moved this environment's account in
    MessagingNumber.objects.all().delete()
    TwilioAccount.objects.all().delete()
    account = TwilioAccount.objects.create(
        label="Bench",
        account_sid=ACCOUNT_SID,
        auth_token_env="TWILIO_AUTH_TOKEN",  # noqa: S106  (the variable's name, not a token)
    )
    MessagingNumber.objects.create(account=account, phone_number=SHOP_NUMBER, is_default=True)
    for n in range(STORES):
        store = Store.objects.create(name=f"Store {n}")
        MessagingNumber.objects.create(
            account=account, store=store, phone_number=f"+1415556{n:04d}"
        )


def probes() -> list[tuple[str, bytes]]:
    """One steady-state webhook (a MessageSid the load never used) and one floor request."""
    unsent = FIRST_WEBHOOK + WEBHOOK_REQUESTS
    return [
        (WEBHOOK_PATH, build_requests(1, WEBHOOK_PATH, first=unsent, signed=True)[0]),
        (FLOOR_PATH, build_requests(1, FLOOR_PATH, first=0, signed=False)[0]),
    ]


def check_writes(load: generator.Load) -> tuple[int, int, int]:
    """(errors, lost, floor_lost) over every request of the run, warm-up included.

    errors: webhooks not answered 200 with the empty TwiML; lost: MessageSids answered so
    with no event, plus events no request asked for (there must be one per MessageSid).
    """
    sent_webhooks = load.sent["webhook"]
    errors = sum(1 for o in sent_webhooks if o.status != 200)
    sent = {_sid(FIRST_WEBHOOK + o.index) for o in sent_webhooks}
    answered = {_sid(FIRST_WEBHOOK + o.index) for o in sent_webhooks if o.status == 200}
    written = set(
        Event.objects.filter(channel=Event.Channel.SMS, direction=Event.Direction.IN).values_list(
            "source_id", flat=True
        )
    )
    lost = len(answered - written) + len(written - sent)
    floor_answered, floor_rows = webhooks.floor_writes(load, MESSAGES)
    print(
        f"webhooks sent: {len(sent_webhooks)} ({len(sent)} distinct MessageSids), answered 200 "
        f"with the empty TwiML: {len(answered)}, events written: {len(written)}; "
        f"customers: {Customer.objects.count()}, conversations: {Conversation.objects.count()}\n"
        f"floor requests answered 200: {floor_answered}, rows written: {floor_rows}\n"
        f"errors: {errors}, lost: {lost}",
        flush=True,
    )
    if len(sent_webhooks) != len(sent):
        raise RuntimeError("a MessageSid was sent twice: the load generator is broken")
    return errors, lost, floor_answered - floor_rows


BENCHMARK = webhooks.Benchmark(
    name="sms_inbound",
    database=DATABASE,
    pools=pools,
    seed=seed,
    check_writes=check_writes,
    probes=probes,
    throughput_target=0.6,
)


def main() -> None:
    webhooks.run(BENCHMARK)


if __name__ == "__main__":
    main()
