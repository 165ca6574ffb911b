"""Webhooks for both stores at once, while an operator switches a number off: every
answer is the one the rows allow, and nothing is written for a refused request."""

import threading
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from channels_adapters.numbers.models import MessagingNumber
from conversations.models import Event
from tests.channels_adapters.sms.conftest import signature
from tests.conftest import run_concurrently

from .conftest import ACCOUNT_A, ACCOUNT_B, NUMBER_A, NUMBER_B, TOKEN_A, TOKEN_B, sms_sid


def post(to: str, account: str, token: str, n: int) -> int:
    form = {
        "MessageSid": sms_sid(n),
        "AccountSid": account,
        "From": f"+1415555{n:04d}",
        "To": to,
        "Body": "hello",
    }
    url = settings.PUBLIC_BASE_URL + "/hooks/twilio/sms/"
    response = Client().post(
        "/hooks/twilio/sms/",
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature(url, form, token)},
    )
    return response.status_code


@pytest.mark.django_db(transaction=True)
def test_both_stores_traffic_at_once_each_checked_with_its_own_account(shop):
    calls = [
        (NUMBER_A, ACCOUNT_A, TOKEN_A, 1000 + n)
        if n % 2
        else (NUMBER_B, ACCOUNT_B, TOKEN_B, 1000 + n)
        for n in range(8)
    ] + [(NUMBER_A, ACCOUNT_A, TOKEN_B, 2000 + n) for n in range(4)]  # forged: A's with B's token

    statuses = run_concurrently(post, calls)

    assert statuses == [200] * 8 + [403] * 4
    tos = sorted(Event.objects.filter(kind="message").values_list("data__to", flat=True))
    assert tos == [NUMBER_A] * 4 + [NUMBER_B] * 4


@pytest.mark.django_db(transaction=True)
def test_a_number_switched_off_mid_traffic_is_refused_from_then_on(shop):
    switched = threading.Event()

    def switch_off() -> str:
        number = MessagingNumber.objects.get(phone_number=NUMBER_B)
        number.active = False
        number.save()  # forgets this process's copy: every thread reads the rows again
        switched.set()
        return "off"

    def after_switch(n: int) -> int:
        switched.wait(10)
        return post(NUMBER_B, ACCOUNT_B, TOKEN_B, n)

    def either(n: int) -> int:
        return post(NUMBER_A, ACCOUNT_A, TOKEN_A, n)

    results = run_concurrently(
        lambda kind, n: {"off": switch_off, "b": after_switch, "a": either}[kind](
            *(() if kind == "off" else (n,))
        ),
        [("off", 0)] + [("b", 3000 + n) for n in range(4)] + [("a", 4000 + n) for n in range(4)],
    )

    assert results == ["off"] + [403] * 4 + [200] * 4
    assert not Event.objects.filter(data__to=NUMBER_B).exists()
    assert Event.objects.filter(data__to=NUMBER_A).count() == 4
