"""Mailgun's inbound-email webhook over HTTP against the SMS floor: `python -m bench.email_inbound`.

The server, the load generator and the floor are bench.sms_inbound's (bench/_webhooks.py,
bench/_floor_urls.py), on a scratch database (`throughline_bench_email_inbound`):

- Webhook: `POST /hooks/email/mailgun/inbound/`, each request a distinct Message-Id from
  one of a dozen customers (Gmail- and Outlook-style replies with quoted history), signed
  as Mailgun signs (HMAC-SHA256 of timestamp + token with the webhook signing key) and
  carrying the webhook's basic auth, with Mailgun's fully parsed field set. Each one is
  checked by anymail, read from its fields (channels_adapters/email/mailgun.py), stripped
  of its quote, sanitised, stored (event and Mail row, the original MIME in it, in the
  journal's one statement).
- Floor: `POST /bench/floor/sms/`, the very requests of bench.sms_inbound's floor (one
  indexed SELECT, one INSERT, an empty TwiML), so the two benchmarks share a yardstick.

Figure: throughput ratio at full load, webhook / floor, the median of short alternating
rounds (target >= 0.5: an email does more than a text, and mail arrives at a fraction of
the rate texts do). Every webhook must answer 200 and write exactly one event per
Message-Id: `errors` and `lost` are printed, and any makes the figure `short`. Also
printed: the statements of one steady-state mail and the floor's, counted in-process,
the figure that does not move with the machine's load: 2 and 2 (the mail's lookup, then
its append writing the Mail row; 7 before the Mail row joined the append, docs/email.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import signal
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench import _load as generator
from bench import _webhooks as webhooks  # first: it sets Django up, the models need it
from bench import median, scratch_database, verdict
from bench._floor_urls import CREATE_SMS_FLOOR_TABLES, MESSAGES, SENDERS, SMS_FLOOR_PATH
from bench.sms_inbound import SENDERS_PHONES
from bench.sms_inbound import build_requests as sms_floor_requests
from conversations.models import Conversation, Customer, Event

DATABASE = "throughline_bench_email_inbound"
WEBHOOK_PATH = "/hooks/email/mailgun/inbound/"
WEBHOOK_REQUESTS = 12_000  # each sent at most once (distinct Message-Ids)
FLOOR_REQUESTS = 4_000
SIGNING_KEY = secrets.token_hex(16)
BASIC_AUTH = f"anymail:{secrets.token_hex(8)}"
SENDERS_EMAILS = [f"customer{n}@{('gmail.com', 'outlook.com')[n % 2]}" for n in range(12)]
REPLIES = [
    "Yes please, Saturday morning works.\r\n\r\nDana\r\n\r\nOn Mon, Dec 7, 2026 at 8:55 AM "
    "Shop <help@shop.example> wrote:\r\n"
    "> Hi Dana, we can deliver on Saturday. Shall we book it?\r\n",
    "Thanks, Friday is fine.\r\n\r\nBest regards,\r\nMarcus\r\n\r\n"
    "________________________________\r\n"
    "From: Shop <help@shop.example>\r\nSent: Monday, December 7, 2026 4:55 PM\r\n"
    "To: Marcus\r\nSubject: Your order 48213\r\n\r\nHi Marcus, your T900 can come on Friday.\r\n",
    "Is the blue rain jacket from the window still there in a medium?",
]


def _message_id(n: int) -> str:
    return f"bench-{n:08d}@mail.example"


def _form(n: int) -> dict[str, str]:
    sender = SENDERS_EMAILS[n % len(SENDERS_EMAILS)]
    timestamp, token = "1796661234", f"{n:050x}"
    signature = hmac.new(
        SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    headers = [
        ["X-Mailgun-Dkim-Check-Result", "Pass"],
        ["X-Mailgun-Spf", "Pass"],
        ["X-Mailgun-Sflag", "No"],
        ["From", f"Customer {n % 12} <{sender}>"],
        ["To", "Shop <help@shop.example>"],
        ["Subject", "Re: Your order 48213"],
        ["Date", "Mon, 7 Dec 2026 17:20:00 +0000"],
        ["Message-Id", f"<{_message_id(n)}>"],
        ["In-Reply-To", "<tl.1.0123456789abcdef@shop.example>"],
        ["Mime-Version", "1.0"],
    ]
    body = REPLIES[n % len(REPLIES)]
    return {
        "recipient": "help@shop.example",
        "sender": sender,
        "from": sender,
        "subject": "Re: Your order 48213",
        "body-plain": body,
        "body-html": f"<div>{body.split(chr(13))[0]}</div>",
        "attachment-count": "0",
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
        "message-headers": json.dumps(headers),
    }


def _request(n: int) -> bytes:
    body = urlencode(_form(n)).encode()
    auth = base64.b64encode(BASIC_AUTH.encode()).decode()
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{generator.PORT}\r\n"
        "User-Agent: mailgun/treq-16.12.0\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nAuthorization: Basic {auth}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def pools() -> None:
    generator.POOLS["webhook"] = [_request(n) for n in range(WEBHOOK_REQUESTS)]
    generator.POOLS["floor"] = sms_floor_requests(
        FLOOR_REQUESTS, SMS_FLOOR_PATH, first=1, signed=False
    )
    generator.CHECKS["webhook"] = lambda answer: True  # 200 with an empty body
    generator.CHECKS["floor"] = generator.ends_with(
        '<?xml version="1.0" encoding="UTF-8"?><Response />'
    )


def seed() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(CREATE_SMS_FLOOR_TABLES)
        cursor.executemany(
            f"INSERT INTO {SENDERS} (phone) VALUES (%s)",
            [[p] for p in SENDERS_PHONES],
        )


def check_writes(load: generator.Load) -> tuple[int, int, int]:
    sent_webhooks = load.sent["webhook"]
    errors = sum(1 for o in sent_webhooks if o.status != 200)
    sent = {_message_id(o.index) for o in sent_webhooks}
    answered = {_message_id(o.index) for o in sent_webhooks if o.status == 200}
    written = set(
        Event.objects.filter(channel="email", direction="in").values_list("source_id", flat=True)
    )
    lost = len(answered - written) + len(written - sent)
    floor_answered, floor_rows = webhooks.floor_writes(load, MESSAGES)
    print(
        f"webhooks sent: {len(sent_webhooks)}, answered 200: {len(answered)}, events written: "
        f"{len(written)}; customers: {Customer.objects.count()}, conversations: "
        f"{Conversation.objects.count()}\nfloor requests answered 200: {floor_answered}, rows "
        f"written: {floor_rows}\nerrors: {errors}, lost: {lost}",
        flush=True,
    )
    return errors, lost, floor_answered - floor_rows


def queries_per_mail(media_root: Path) -> tuple[list[str], int]:
    """(the statements of one steady-state mail, their first words; the number of one
    floor request's), sent in-process through
    Django on the bench's URLs, as Django logs them: a known sender's reply with her case
    open, its Message-Id one the load never used (so after check_writes). Django logs
    a transaction's BEGIN and COMMIT too, and a prepared statement without its text."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    anymail = {"WEBHOOK_SECRET": BASIC_AUTH, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    auth = "Basic " + base64.b64encode(BASIC_AUTH.encode()).decode()
    floor = sms_floor_requests(1, SMS_FLOOR_PATH, first=1, signed=False)[0]
    probes = [
        (WEBHOOK_PATH, urlencode(_form(WEBHOOK_REQUESTS + 1)).encode()),
        (SMS_FLOOR_PATH, floor.split(b"\r\n\r\n", 1)[1]),
    ]
    counts = []
    client = Client()
    with override_settings(
        ROOT_URLCONF=webhooks.URLCONF, ANYMAIL=anymail, MEDIA_ROOT=str(media_root)
    ):
        for path, body in probes:
            with CaptureQueriesContext(connection) as captured:
                response = client.post(
                    path, body, content_type="application/x-www-form-urlencoded",
                    headers={"Authorization": auth},
                )  # fmt: skip
            assert response.status_code == 200, (path, response.status_code, response.content)
            counts.append(
                [str(q["sql"]).split()[0] if q["sql"] else "(prepared)" for q in captured]
            )
    return counts[0], len(counts[1])


def main() -> None:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, webhooks._exit_on_sigterm)
    pools()
    with scratch_database(DATABASE), tempfile.TemporaryDirectory(prefix="bench-email-") as work:
        seed()
        server = webhooks.Server(
            Path(work),
            extra_env={
                "ANYMAIL_WEBHOOK_SECRET": BASIC_AUTH,
                "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
                "EMAIL_CHANNEL_BACKEND": "django.core.mail.backends.console.EmailBackend",
                "MEDIA_ROOT": str(Path(work) / "media"),
            },
        )
        try:
            server.start()
            print(f"setup: {time.monotonic() - started:.1f} s", flush=True)
            load = generator.Load(server)
            for mode in ("floor", "webhook"):
                print(f"  warm-up: {webhooks.describe(load.run(mode, 1.5))}", flush=True)
            rounds = webhooks.alternate(
                load, webhooks.THROUGHPUT_ROUNDS, webhooks.THROUGHPUT_SECONDS, None
            )
            ratios = [r["webhook"].throughput / r["floor"].throughput for r in rounds]
            failures = check_writes(load)
            mail_queries, floor_queries = queries_per_mail(Path(work) / "media")
        finally:
            server.stop()
        log = server.tail()
    print(
        f"queries per request (in-process, steady state): mail {len(mail_queries)} "
        f"({' '.join(mail_queries)}), floor {floor_queries}",
        flush=True,
    )
    print("per-round throughput ratios " + " ".join(f"{r:.2f}" for r in ratios), flush=True)
    if log.strip():
        print(f"gunicorn log (last lines):\n{log}", flush=True)
    line = verdict("email_inbound.throughput_ratio", median(ratios), at_least=0.5)
    if any(failures):
        line = line.removesuffix(" ok").removesuffix(" short") + " short"
    print(line, flush=True)


if __name__ == "__main__":
    main()
