"""The founding journey of one shopper, as plain functions over HTTP and a websocket.

Everything here talks to a running Throughline the way its real clients do, and nothing
imports Django: the Locust users (bench/load/locustfile.py) run it under gevent, and
tests/test_load_journey.py runs it once against a live server.

One journey, in the order a shopper lives it (README: a treadmill in the cart, a
question in the chat widget, a QR scan in the store, a text, a call, an order):

- `widget_session`: `POST /widget/session`, an anonymous visitor's token;
- `widget_identify`: `POST /widget/identify` with a JWT the shop signed for its own
  customer id (the visitor becomes that customer);
- `page_view`, `cart`: the shop's server, `POST /api/v1/events` by that customer id;
- `widget_question`: the widget socket: connect, `ready`, a question, its `ack`;
- `agent_search`, `agent_open`: an agent finds the conversation in the console (the
  changelist searched by customer id) and opens it;
- `agent_reply_web`: the reply box on the web (`POST .../reply/`, with CSRF);
- `reply_on_widget`: from that POST until the shopper's socket shows the reply;
- `qr_page`, `qr_scan`: her phone opens the label's landing page, `POST /s/<code>/scan`;
- `sms_in`: Twilio posts the "Text us" text quoting the scan's reference (her phone
  joins her history: a merge);
- `agent_reply_sms`: search and open again, reply by SMS (the outbox; Celery delivers);
- `call_answer`, `call_gather`, `call_dial`, `call_status`: Twilio's call webhooks: the
  greeting, what she said, the `<Dial>`'s outcome when an agent was rung, `completed`;
- `order`: the shop's server, `order_placed`.

`run_journey` returns a ledger: the shopper's identifiers and, in the order they were
sent, a marker for every event the journey expects stored (bench/load/verify.py checks
them against the journal). A marker is added only once its request was answered as
expected, so an error is an error, never a "lost" event.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import quote, urlencode

import jwt
import requests
from twilio.request_validator import RequestValidator
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from .clients import (
    TIMEOUT,
    Agent,
    JourneyError,
    Platform,
    Shopper,
    call_form,
    expect_status,
    sms_form,
)

LIVE_TIMEOUT = 10.0  # seconds for the agent's reply to reach the widget socket
CONVERSATION_LINK = re.compile(r"/admin/conversations/conversation/(\d+)/change/")
STEPS = (
    "widget_session",
    "widget_identify",
    "page_view",
    "cart",
    "widget_question",
    "agent_search",
    "agent_open",
    "agent_reply_web",
    "reply_on_widget",
    "qr_page",
    "qr_scan",
    "sms_in",
    "agent_reply_sms",
    "call_answer",
    "call_gather",
    "call_dial",
    "call_status",
    "order",
)
T900 = {"sku": "T900", "name": "T900 Folding Treadmill", "quantity": 1, "price": "1299.00"}

# What a failed step raises: our own check, the HTTP client's or the socket's errors, an
# answer that is not the JSON expected. Anything else is a bug of the journey's.
FAILURES = (
    JourneyError,
    requests.RequestException,
    OSError,
    WebSocketException,
    ValueError,
    KeyError,
)
Record = Callable[[str, float], None]  # (step, seconds) for each step answered as expected


class Journey:
    """One shopper's journey; each step timed and, once answered as expected, recorded."""

    def __init__(self, platform: Platform, shopper: Shopper, agent: Agent, record: Record):
        self.platform, self.shopper, self.agent, self.record = platform, shopper, agent, record
        self.browser = requests.Session()  # the shopper's browser (and, later, her phone's)
        self.browser.headers["User-Agent"] = "Mozilla/5.0 (bench.load)"
        self.shop = requests.Session()  # the shop's server, calling the events API
        self.shop.headers["Authorization"] = f"Bearer {platform.api_key}"
        self.twilio = requests.Session()
        self.twilio.headers["User-Agent"] = "TwilioProxy/1.1"
        self.validator = RequestValidator(platform.twilio_token)
        self.token = self.visitor_id = ""
        self.markers: list[dict] = []

    def timed(self, step: str, action: Callable[[], object]):
        started = time.perf_counter()
        result = action()
        self.record(step, time.perf_counter() - started)
        return result

    def expect(self, label: str, channel: str, **match: str) -> None:
        """An event the journal must hold exactly once, in this place of the journey."""
        self.markers.append({"label": label, "channel": channel, **match})

    def ledger(self) -> dict:
        return {
            "ref": self.shopper.ref,
            "phone": self.shopper.phone,
            "visitor_id": self.visitor_id,
            "markers": self.markers,
        }

    def close(self) -> None:
        for session in (self.browser, self.shop, self.twilio):
            session.close()

    # ------------------------------------------------------------------ the widget

    def widget_call(self, step: str, path: str, body: dict) -> dict:
        answer = self.browser.post(
            f"{self.platform.http}{path}",
            data=json.dumps({"site": self.platform.site_key, **body}),
            headers={"Origin": self.platform.origin, "Content-Type": "application/json"},
            timeout=TIMEOUT,
        )
        return expect_status(step, answer, 200).json()

    def widget_session(self) -> None:
        state = self.timed(
            "widget_session", lambda: self.widget_call("widget_session", "/widget/session", {})
        )
        self.token = state["token"]

    def widget_identify(self) -> None:
        claim = jwt.encode(
            {"sub": self.shopper.ref, "exp": int(time.time()) + 600},
            self.platform.site_secret,
            algorithm="HS256",
        )
        body = {"token": self.token, "jwt": claim}
        self.timed(
            "widget_identify", lambda: self.widget_call("widget_identify", "/widget/identify", body)
        )

    # ------------------------------------------------------------------ the events API

    def shop_event(self, step: str, kind: str, payload: dict) -> None:
        event_id = f"{self.shopper.ref}-{step}"
        body = {
            "events": [
                {
                    "event_id": event_id,
                    "type": kind,
                    "customer": {"external_id": self.shopper.ref},
                    "payload": payload,
                }
            ]
        }

        def send():
            answer = self.shop.post(
                f"{self.platform.http}/api/v1/events", json=body, timeout=TIMEOUT
            )
            result = expect_status(step, answer, 200).json()
            if result.get("accepted") != 1:
                raise JourneyError(step, f"not accepted: {answer.text[:300]}")

        self.timed(step, send)
        self.expect(step, "api", source_id=event_id)

    # ------------------------------------------------------------------ the socket

    def widget_socket(self):
        url = (
            f"{self.platform.ws}/ws/widget/?site={quote(self.platform.site_key)}"
            f"&token={quote(self.token)}&after_seq=0"
        )
        return connect(url, origin=self.platform.origin, open_timeout=TIMEOUT)

    @staticmethod
    def wait_for(step: str, socket, wanted: Callable[[dict], bool]) -> dict:
        deadline = time.monotonic() + LIVE_TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = json.loads(socket.recv(timeout=left))
            except TimeoutError:
                break
            if frame.get("type") == "error":
                raise JourneyError(step, f"the socket answered {frame}")
            if wanted(frame):
                return frame
        raise JourneyError(step, f"nothing wanted on the widget socket within {LIVE_TIMEOUT} s")

    def widget_question(self, socket) -> None:
        client_id = uuid.uuid4().hex[:16]
        question = f"Does the T900 warranty cover the motor? ({self.shopper.ref})"

        def ask():
            self.wait_for("widget_question", socket, lambda f: f["type"] == "ready")
            socket.send(json.dumps({"type": "message", "id": client_id, "body": question}))
            self.wait_for(
                "widget_question", socket, lambda f: f["type"] == "ack" and f["id"] == client_id
            )

        self.timed("widget_question", ask)
        self.visitor_id = self.visitor_of_token()
        self.expect("widget_question", "web", source_id=f"{self.visitor_id}:{client_id}")

    def visitor_of_token(self) -> str:
        """The visitor id the signed token carries: Django's signing.dumps, a base64 JSON
        `{"v": id}` before the timestamp and the signature (signed, not secret)."""
        value = self.token.split(":", 1)[0]
        return json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))["v"]

    # ------------------------------------------------------------------ the console

    def agent_find(self) -> int:
        def search():
            answer = self.agent.http.get(
                f"{self.platform.http}/admin/conversations/conversation/",
                params={"q": self.shopper.ref},
                timeout=TIMEOUT,
            )
            found = set(CONVERSATION_LINK.findall(expect_status("agent_search", answer, 200).text))
            if len(found) != 1:
                raise JourneyError("agent_search", f"{len(found)} conversations found, not 1")
            return int(found.pop())

        conversation = self.timed("agent_search", search)
        page = f"{self.platform.http}/admin/conversations/conversation/{conversation}/change/"
        self.timed(
            "agent_open",
            lambda: expect_status("agent_open", self.agent.http.get(page, timeout=TIMEOUT), 200),
        )
        return conversation

    def agent_reply(self, step: str, conversation: int, channel: str, body: str) -> None:
        url = f"{self.platform.http}/admin/conversations/conversation/{conversation}/reply/"
        form = {
            "channel": channel,
            "body": body,
            "csrfmiddlewaretoken": self.agent.http.cookies.get("csrftoken", ""),
        }
        self.timed(
            step,
            lambda: expect_status(
                step,
                self.agent.http.post(url, data=form, allow_redirects=False, timeout=TIMEOUT),
                302,
            ),
        )

    # ------------------------------------------------------------------ in store, SMS, call

    def qr_scan(self) -> str:
        landing = f"{self.platform.http}/s/{self.platform.placement_code}/"
        self.timed(
            "qr_page",
            lambda: expect_status("qr_page", self.browser.get(landing, timeout=TIMEOUT), 200),
        )

        def scan():
            answer = self.browser.post(
                f"{landing}scan",
                data=json.dumps({"token": self.token}),
                headers={
                    "Content-Type": "application/json",
                    "X-CSRFToken": self.browser.cookies.get("csrftoken", ""),
                },
                timeout=TIMEOUT,
            )
            return expect_status("qr_scan", answer, 200).json()["reference"]

        reference = self.timed("qr_scan", scan)
        self.expect("qr_scan", "instore", scan_reference=reference)
        return reference

    def twilio_post(self, step: str, path: str, form: dict[str, str], status: int = 200) -> str:
        signature = self.validator.compute_signature(self.platform.public_base_url + path, form)
        answer = self.twilio.post(
            f"{self.platform.http}{path}",
            data=urlencode(form),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
            timeout=TIMEOUT,
        )
        return expect_status(step, answer, status).text

    def sms_in(self, reference: str) -> None:
        sid = self.shopper.sid("SM")
        body = f"Hi! I'm at the store looking at the T900 Folding Treadmill. Ref {reference}"
        form = {
            **sms_form(sid, self.shopper.phone, self.platform.shop_number),
            "Body": body,
        }
        self.timed("sms_in", lambda: self.twilio_post("sms_in", "/hooks/twilio/sms/", form))
        self.expect("sms_in", "sms", source_id=sid)

    def call(self) -> None:
        sid = self.shopper.sid("CA")
        form = call_form(sid, self.shopper.phone, self.platform.shop_number)
        greeting = self.timed(
            "call_answer", lambda: self.twilio_post("call_answer", "/hooks/twilio/voice/", form)
        )
        if "<Gather" not in greeting:
            raise JourneyError("call_answer", f"no greeting with a <Gather>: {greeting[:300]}")
        self.expect("call_answer", "voice", source_id=sid)
        said = {
            **form,
            "CallStatus": "in-progress",
            "SpeechResult": "I scanned the treadmill, does the warranty cover the motor?",
            "Confidence": "0.92",
            "Language": "en-US",
        }
        routed = self.timed(
            "call_gather",
            lambda: self.twilio_post("call_gather", "/hooks/twilio/voice/gather/", said),
        )
        status = "/hooks/twilio/voice/status/"
        if "<Dial" in routed:  # an agent's phone rang and she answered: the Dial's outcome
            dialled = {**form, "CallStatus": "in-progress", "DialCallStatus": "completed",
                       "DialCallSid": self.shopper.sid("CB"), "DialCallDuration": "42"}  # fmt: skip
            self.timed("call_dial", lambda: self.twilio_post("call_dial", status, dialled))
        ended = {**form, "CallStatus": "completed", "CallDuration": "51", "SequenceNumber": "3"}
        self.timed("call_status", lambda: self.twilio_post("call_status", status, ended, 204))


def run_journey(platform: Platform, shopper: Shopper, agent: Agent, record: Record) -> dict:
    """The whole journey of one shopper; its ledger (JourneyError if a step failed, with
    the ledger so far on the exception's `ledger`)."""
    journey = Journey(platform, shopper, agent, record)
    try:
        journey.widget_session()
        journey.widget_identify()
        page = {"url": "https://shop.example/products/t900", "title": T900["name"]}
        journey.shop_event("page_view", "page_viewed", page)
        journey.shop_event("cart", "cart_updated", {"currency": "USD", "items": [T900]})
        with journey.widget_socket() as socket:
            journey.widget_question(socket)
            conversation = journey.agent_find()
            answer = f"Yes, the motor has a 10-year warranty. ({shopper.ref})"
            started = time.perf_counter()
            journey.agent_reply("agent_reply_web", conversation, "web", answer)
            journey.expect("agent_reply_web", "web", direction="out", body=answer)
            journey.wait_for(
                "reply_on_widget",
                socket,
                lambda f: f["type"] == "message" and f["message"]["body"] == answer,
            )
            record("reply_on_widget", time.perf_counter() - started)
        reference = journey.qr_scan()
        journey.sms_in(reference)
        conversation = journey.agent_find()  # the phone's history joined hers: look again
        text = f"It's in aisle 4; ask for Sam, who will show you the motor. ({shopper.ref})"
        journey.agent_reply("agent_reply_sms", conversation, "sms", text)
        journey.expect("agent_reply_sms", "sms", direction="out", body=text)
        journey.call()
        order = {"order_id": f"{shopper.ref}-order", "currency": "USD", "items": [T900]}
        journey.shop_event("order", "order_placed", order)
    except FAILURES as exc:
        exc.ledger = journey.ledger()
        raise
    finally:
        journey.close()
    return journey.ledger()
