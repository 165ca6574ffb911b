"""What the journey's clients hold and send: the platform's addresses and keys, a shopper's
identifiers, a logged-in agent, and Twilio's forms as Twilio posts them.

No Django here (bench/load/journey.py says why).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import requests

TIMEOUT = 30.0  # seconds, any request: a stall shows in the figures, it does not hang the run


class JourneyError(Exception):
    """A step was not answered as expected; the message says which and how."""

    def __init__(self, step: str, detail: str):
        super().__init__(f"{step}: {detail}")
        self.step = step


@dataclass(frozen=True)
class Platform:
    """Where the platform is and what its clients hold (JSON-able, for the Locust process)."""

    http: str  # http://127.0.0.1:<port> of the HTTP process
    ws: str  # ws://127.0.0.1:<port> of the websocket process
    public_base_url: str  # what Twilio signatures are computed over (PUBLIC_BASE_URL)
    twilio_token: str
    api_key: str
    site_key: str
    site_secret: str
    origin: str  # an allowed origin of the site: the shop's pages
    placement_code: str
    shop_number: str


@dataclass(frozen=True)
class Shopper:
    run: str  # distinguishes runs and Locust processes
    number: int

    @property
    def ref(self) -> str:
        """The shop's own customer id."""
        return f"{self.run}-{self.number}"

    @property
    def phone(self) -> str:
        return f"+1415{2_000_000 + self.number % 7_000_000:07d}"

    def sid(self, prefix: str) -> str:
        """A Twilio sid of this shopper's (SM..., CA...): 34 characters, unique per run."""
        return prefix + uuid.uuid5(uuid.NAMESPACE_URL, f"{self.ref}/{prefix}").hex


class Agent:
    """An agent logged into the console, with the session cookie and CSRF token it got."""

    def __init__(self, platform: Platform, username: str, password: str):
        self.platform = platform
        self.http = requests.Session()
        login = f"{platform.http}/admin/login/"
        expect_status("agent_login", self.http.get(login, timeout=TIMEOUT), 200)
        answer = self.http.post(
            login,
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.http.cookies.get("csrftoken", ""),
                "next": "/admin/",
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        if answer.status_code != 302 or "sessionid" not in self.http.cookies:
            raise JourneyError("agent_login", f"HTTP {answer.status_code}: {excerpt(answer)}")

    def close(self) -> None:
        self.http.close()


def expect_status(step: str, answer: requests.Response, status: int) -> requests.Response:
    if answer.status_code != status:
        raise JourneyError(step, f"HTTP {answer.status_code} (not {status}): {excerpt(answer)}")
    return answer


def excerpt(answer: requests.Response, size: int = 500) -> str:
    """The answer's text, an HTML page's without its markup (Django's error pages say the
    reason in their text)."""
    text = answer.text
    if "<html" in text[:200].lower():
        text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S | re.I)
        text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.split())[:size]


def sms_form(sid: str, phone: str, shop_number: str) -> dict[str, str]:
    """The fields Twilio posts for an inbound SMS, in its order (tests/fakes' fixture)."""
    place = {"Country": "US", "State": "CA", "City": "SAN FRANCISCO", "Zip": "94105"}
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": place["Zip"],
        "SmsSid": sid,
        "FromState": place["State"],
        "SmsStatus": "received",
        "FromCity": place["City"],
        "FromCountry": "US",
        "To": shop_number,
        "ToZip": "94105",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "ApiVersion": "2010-04-01",
    }


def call_form(sid: str, phone: str, shop_number: str) -> dict[str, str]:
    """The fields Twilio posts when a call comes in (tests/fakes' fixture), ringing."""
    place = {"City": "SAN FRANCISCO", "Country": "US", "State": "CA", "Zip": "94105"}
    return {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": "ringing",
        "CallToken": "%7B%22parentCallInfoToken%22%3A%22eyJhbGciOiJFUzI1NiJ9%22%7D",
        "Called": shop_number,
        **{f"Called{key}": value for key, value in place.items()},
        "Caller": phone,
        **{f"Caller{key}": value for key, value in place.items()},
        "Direction": "inbound",
        "From": phone,
        **{f"From{key}": value for key, value in place.items()},
        "StirVerstat": "TN-Validation-Passed-A",
        "To": shop_number,
        **{f"To{key}": value for key, value in place.items()},
    }
