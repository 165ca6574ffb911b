"""Twilio's webhook forms as Twilio really posts them: every field, in Twilio's order.

The payloads live as JSON fixtures in tests/fixtures/twilio/{sms,voice}/ (the README
there gives each one's source). `payload` loads one, changed where a test says (a value
of None removes the field, keeping the others in place); `post_signed` posts it
form-encoded in that order, signed with `RequestValidator.compute_signature` over
PUBLIC_BASE_URL + path, exactly as Twilio signs.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.test import Client
from twilio.request_validator import RequestValidator

from tests.fakes.twilio_server import AUTH_TOKEN

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"


@cache
def _load(adapter: str, name: str) -> tuple[tuple[str, str], ...]:
    with open(FIXTURES / adapter / f"{name}.json", encoding="utf-8") as f:
        return tuple(json.load(f).items())


def payload(adapter: str, name: str, **changes: str | None) -> dict[str, str]:
    """tests/fixtures/twilio/<adapter>/<name>.json as an ordered form, `changes` applied."""
    form = dict(_load(adapter, name))
    for key, value in changes.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value
    return form


def sign(path: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(settings.PUBLIC_BASE_URL + path, form)


def post_signed(path: str, form: dict[str, str], *, client: Client | None = None, token=AUTH_TOKEN):
    """POST `form` to `path` as Twilio does: form-encoded in the given order, signed."""
    return (client or Client()).post(
        path,
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign(path, form, token)},
    )
