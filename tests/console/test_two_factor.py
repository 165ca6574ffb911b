"""Two-factor authentication for staff (console/two_factor.py): TOTP through django-otp,
with real codes computed from the device's key on a controlled clock."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import in_group

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
INDEX = "/admin/"


def code(device: TOTPDevice, at: datetime) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at.timestamp()
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user("maria", password="pw-maria", is_staff=True)
    return in_group(user, "Managers")


def log_in(client, username, password):
    response = client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": INDEX}
    )
    assert response.status_code == 302, "the password step"
    return client.get(INDEX)


@time_machine.travel(NOW, tick=False)
def test_off_by_default_nobody_is_asked(client, manager):
    assert log_in(client, "maria", "pw-maria").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_a_manager_must_set_up_an_app_when_required(client, manager, settings):
    settings.THROUGHLINE_REQUIRE_2FA_FOR_MANAGERS = True

    response = log_in(client, "maria", "pw-maria")
    assert response.status_code == 302
    assert response.url.startswith(reverse("console_two_factor_setup"))

    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    key = re.search(r'aria-label="Authenticator key">([A-Z2-7 ]+)<', html).group(1)
    assert len(key.replace(" ", "")) == 32

    wrong = client.post(response.url, {"code": "000000", "next": INDEX})
    assert wrong.status_code == 400 and "not the one your app shows" in wrong.content.decode()
    assert client.get(INDEX).status_code == 302  # still not through
    # django-otp throttles after a wrong code (1 s, then doubling): the right one at once
    # is refused too
    throttled = client.post(response.url, {"code": code(device, NOW), "next": INDEX})
    assert throttled.status_code == 400

    later = NOW + timedelta(seconds=3)
    with time_machine.travel(later, tick=False):
        right = client.post(response.url, {"code": code(device, later), "next": INDEX})
        assert right.status_code == 302 and right.url == INDEX
        device.refresh_from_db()
        assert device.confirmed
        assert client.get(INDEX).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_an_agent_is_not_forced(client, agent, settings):
    settings.THROUGHLINE_REQUIRE_2FA_FOR_MANAGERS = True
    assert log_in(client, "alice", "pw-alice").status_code == 200


def test_staff_with_an_app_give_its_code_after_the_password(client, manager):
    device = TOTPDevice.objects.create(user=manager, name="Phone", confirmed=True)

    with time_machine.travel(NOW, tick=False):
        response = log_in(client, "maria", "pw-maria")
        assert response.status_code == 302
        assert response.url.startswith(reverse("console_two_factor_verify"))
        assert client.get("/admin/conversations/conversation/inbox/").status_code == 302

        wrong = client.post(response.url, {"code": "123456", "next": INDEX})
        assert wrong.status_code == 400

    later = NOW + timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        stale = client.post(response.url, {"code": code(device, NOW), "next": INDEX})
        assert stale.status_code == 400  # a code from five minutes ago
    later += timedelta(seconds=5)  # past the throttle of two wrong codes (1 s, then 2 s)
    with time_machine.travel(later, tick=False):
        right = client.post(response.url, {"code": code(device, later), "next": INDEX})
        assert right.status_code == 302 and right.url == INDEX
        assert client.get(INDEX).status_code == 200

        # the same code cannot open a second session
        client.post(reverse("admin:logout"))
        log_in(client, "maria", "pw-maria")
        again = client.post(reverse("console_two_factor_verify"), {"code": code(device, later)})
        assert again.status_code == 400


@time_machine.travel(NOW, tick=False)
def test_next_never_leaves_the_site(client, manager):
    device = TOTPDevice.objects.create(user=manager, name="Phone", confirmed=True)
    log_in(client, "maria", "pw-maria")

    response = client.post(
        reverse("console_two_factor_verify"),
        {"code": code(device, NOW), "next": "https://evil.example.com/"},
    )

    assert response.status_code == 302 and response.url == reverse("admin:index")


def test_the_pages_need_a_signed_in_user(client):
    for name in ("console_two_factor_setup", "console_two_factor_verify"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/admin/login/" in response.url


@pytest.mark.django_db(transaction=True)
def test_the_agent_socket_asks_for_the_second_factor_too(agent):
    import asyncio

    from channels.testing import WebsocketCommunicator
    from django.test import Client

    from config.asgi import application

    device = TOTPDevice.objects.create(user=agent, name="Phone", confirmed=True)

    def cookie(client) -> bytes:
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    async def connects(session_cookie: bytes) -> bool:
        communicator = WebsocketCommunicator(
            application,
            "/ws/agent/",
            headers=[(b"origin", b"http://localhost:8000"), (b"cookie", session_cookie)],
        )
        connected, _ = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected

    password_only = Client()
    password_only.force_login(agent)
    assert not asyncio.run(connects(cookie(password_only)))

    verified = Client()
    verified.force_login(agent)
    with time_machine.travel(NOW, tick=False):
        response = verified.post(reverse("console_two_factor_verify"), {"code": code(device, NOW)})
    assert response.status_code == 302
    assert asyncio.run(connects(cookie(verified)))
