"""Email webhooks as Postmark and Mailgun post them: the fixtures under tests/fixtures/
filled in, signed the providers' way (Mailgun's HMAC of timestamp + token with the webhook
signing key; the basic auth in the URL for both), and posted through the real URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from pathlib import Path

from django.test import Client

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WEBHOOK_SECRET = "anymail:s3cret-for-tests"
MAILGUN_SIGNING_KEY = "key-0123456789abcdef0123456789abcdef"
ANYMAIL_SETTINGS = {
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
    "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY,
}


def fixture(provider: str, name: str, **values) -> dict:
    """The fixture with each `{{name}}` replaced by `values[name]` (JSON-escaped)."""
    text = (FIXTURES / provider / f"{name}.json").read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", json.dumps(str(value))[1:-1])
    return json.loads(text)


def fixture_names(provider: str) -> list[str]:
    return sorted(p.stem for p in (FIXTURES / provider).glob("*.json"))


def basic_auth(secret: str = WEBHOOK_SECRET) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}


def mailgun_signature(key: str = MAILGUN_SIGNING_KEY) -> dict:
    """What Mailgun adds to each request: a timestamp, a fresh token, and their HMAC."""
    timestamp, token = "1796661234", secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


def _filled(form: dict, signature: dict) -> dict:
    return {
        k: (
            signature[v[2:-2]]
            if isinstance(v, str) and v[2:-2] in signature and v.startswith("{{")
            else v
        )
        for k, v in form.items()
    }


def post_postmark(path: str, payload: dict, *, auth: dict | None = None, client=None):
    return (client or Client()).post(
        path, json.dumps(payload), content_type="application/json",
        headers=basic_auth() if auth is None else auth,
    )  # fmt: skip


def post_mailgun_inbound(
    form: dict, *, key: str = MAILGUN_SIGNING_KEY, auth=None, client=None, signature=None
):
    """A receiving route's forward(): form fields, signed; message-headers as Mailgun's JSON."""
    data = _filled(form, signature or mailgun_signature(key))
    data = {k: json.dumps(v) if isinstance(v, list) else v for k, v in data.items()}
    return (client or Client()).post(
        "/hooks/email/mailgun/inbound/", data, headers=basic_auth() if auth is None else auth
    )


def post_mailgun_tracking(payload: dict, *, key: str = MAILGUN_SIGNING_KEY, auth=None, client=None):
    payload = dict(payload, signature=mailgun_signature(key))
    return (client or Client()).post(
        "/hooks/email/mailgun/tracking/", json.dumps(payload), content_type="application/json",
        headers=basic_auth() if auth is None else auth,
    )  # fmt: skip


def postmark_inbound(
    *, message_id: str, in_reply_to: str = "", references: str = "", **fields
) -> dict:
    """Postmark's inbound JSON for a Gmail-style reply, with these headers and fields."""
    payload = fixture(
        "postmark", "inbound_gmail_reply",
        message_id=message_id, in_reply_to=in_reply_to or "none@nowhere.invalid",
        references=references or in_reply_to or "none@nowhere.invalid",
    )  # fmt: skip
    sender = fields.pop("sender", None)
    if sender:
        payload["From"] = sender
        payload["FromFull"] = {"Email": sender, "Name": fields.pop("name", ""), "MailboxHash": ""}
        payload["Headers"][0]["Value"] = f"<{sender}>"
    payload.update(fields)
    return payload


def mailgun_inbound(
    *,
    message_id: str,
    in_reply_to: str = "",
    references: str = "",
    sender=None,
    headers=(),
    **fields,
) -> dict:
    """Mailgun's forward() form for an Outlook-style reply, with these headers and fields."""
    form = fixture(
        "mailgun", "inbound_outlook_reply",
        message_id=message_id, in_reply_to=in_reply_to or "none@nowhere.invalid",
        references=references or in_reply_to or "none@nowhere.invalid",
    )  # fmt: skip
    if sender:
        form["sender"] = sender
        form["from"] = sender
        form["message-headers"] = [
            ["From", sender] if name == "From" else [name, value]
            for name, value in form["message-headers"]
        ]
    form["message-headers"] = [*form["message-headers"], *map(list, headers)]
    form.update(fields)
    return form
