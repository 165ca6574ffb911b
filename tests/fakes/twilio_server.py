"""A fake Twilio REST API on 127.0.0.1 that the real `twilio` client talks to.

It accepts `POST /2010-04-01/Accounts/<sid>/Messages.json` and `.../Calls.json`, answers
201 with the JSON Twilio returns (a fresh `SM...` or `CA...` sid, status `queued`), and
records every request it received. `DELETE` of a message, media or recording (erasure)
answers 204 and is recorded too (`deleted`). Tell it how to answer the next requests with
`fail_next(...)`:

    server.fail_next(status=429)                 # Too Many Requests (Twilio code 20429)
    server.fail_next(status=500)                 # a server error
    server.fail_next(status=400, code=21610)     # recipient opted out
    server.fail_next(status=400, code=21211)     # invalid To number
    server.hang_next()                           # hold the request until release()

A hung request is recorded (and `received` is set) before it hangs, so a test knows the
request reached "Twilio" before it kills or times out the client.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, list[str]]
    authorization: str

    def value(self, name: str) -> str:
        return self.form.get(name, [""])[0]


class FakeTwilio:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.received = threading.Event()  # set whenever a request arrives
        self._plan: list[dict] = []
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    # -- what the next requests get
    def fail_next(self, *, status: int, code: int | None = None, times: int = 1) -> None:
        with self._lock:
            self._plan += [{"status": status, "code": code}] * times

    def hang_next(self) -> None:
        self._release.clear()
        with self._lock:
            self._plan.append({"hang": True})

    def release(self) -> None:
        self._release.set()

    @property
    def sent(self) -> list[RecordedRequest]:
        return [
            r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    @property
    def deleted(self) -> list[RecordedRequest]:
        """DELETE requests (erasure): messages, media, recordings."""
        return [r for r in self.requests if r.method == "DELETE"]

    @property
    def calls(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/Calls.json")]

    def _next_plan(self) -> dict:
        with self._lock:
            return self._plan.pop(0) if self._plan else {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # keep test output quiet
                pass

            def do_DELETE(self):
                fake.requests.append(
                    RecordedRequest("DELETE", self.path, {}, self.headers.get("Authorization", ""))
                )
                fake.received.set()
                plan = fake._next_plan()
                status = plan.get("status") or 204
                if status == 204:
                    try:
                        self.send_response(204)
                        self.end_headers()
                    except OSError:
                        pass
                    return
                self._answer(status, _error(status, plan.get("code")))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                fake.requests.append(
                    RecordedRequest("POST", self.path, form, self.headers.get("Authorization", ""))
                )
                fake.received.set()
                plan = fake._next_plan()
                if plan.get("hang"):
                    fake._release.wait(timeout=60)
                    return  # no answer at all: the client times out (or was killed)
                if plan.get("status"):
                    self._answer(plan["status"], _error(plan["status"], plan.get("code")))
                    return
                if self.path.endswith("/Calls.json"):
                    self._answer(201, _call(form))
                    return
                self._answer(201, _message(form))

            def _answer(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client went away

        return Handler


_MESSAGES = {
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
}


def _error(status: int, code: int | None) -> dict:
    code = code or (20429 if status == 429 else 20500)
    return {
        "code": code,
        "message": _MESSAGES.get(code, "Internal Server Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _message(form: dict[str, list[str]]) -> dict:
    first = {name: values[0] for name, values in form.items()}
    sid = "SM" + uuid.uuid4().hex
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": first.get("Body", ""),
        "date_created": "Thu, 26 Nov 2026 12:00:00 +0000",
        "date_sent": None,
        "date_updated": "Thu, 26 Nov 2026 12:00:00 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": first.get("From"),
        "messaging_service_sid": first.get("MessagingServiceSid"),
        "num_media": str(len(form.get("MediaUrl", []))),
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued" if "MessagingServiceSid" not in first else "accepted",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"
        },
        "to": first.get("To"),
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def _call(form: dict[str, list[str]]) -> dict:
    first = {name: values[0] for name, values in form.items()}
    sid = "CA" + uuid.uuid4().hex
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "date_created": "Thu, 26 Nov 2026 12:00:00 +0000",
        "date_updated": "Thu, 26 Nov 2026 12:00:00 +0000",
        "direction": "outbound-api",
        "duration": None,
        "from": first.get("From"),
        "parent_call_sid": None,
        "sid": sid,
        "status": "queued",
        "to": first.get("To"),
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
    }
