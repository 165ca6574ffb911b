"""Login protection with django-axes (docs/console.md, "Login protection"): failed logins
count per (username, client address), the address as far as THROUGHLINE_TRUSTED_PROXIES
vouches for it, and a lockout refuses even the right password until its window ends."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from tests.conftest import subprocess_env

PROXY = "10.0.0.2"  # the reverse proxy every agent's request arrives from
GUESSER = "203.0.113.5"
COLLEAGUE = "198.51.100.7"
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def log_in(client, password, *, remote_addr=GUESSER, forwarded_for=None, username="alice"):
    """Post the admin's login form; return the response and whether it logged anyone in."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=remote_addr,
        headers=headers,
    )
    logged_in = "_auth_user_id" in client.session
    client.logout()
    return response, logged_in


def fail_until_locked(client, **where):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response, logged_in = log_in(client, "wrong", **where)
        assert not logged_in
    return response


@pytest.mark.django_db
def test_failures_for_one_username_from_one_address_lock_that_pair_out(client, agent, teammate):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        response, _ = log_in(client, "wrong")
        assert response.status_code == 200  # the login form again, with its error

    response = fail_until_locked(client)

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    # the pair is refused even with the right password, so guessing cannot find it
    response, logged_in = log_in(client, "pw-alice")
    assert response.status_code == 429 and not logged_in
    # the same username from elsewhere, and another username from here, are not locked
    assert log_in(client, "pw-alice", remote_addr=COLLEAGUE)[1]
    assert log_in(client, "pw-bob", username="bob")[1]


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(client, agent):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        assert not log_in(client, "wrong")[1]
    assert log_in(client, "pw-alice")[1]

    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        assert not log_in(client, "wrong")[1]
    assert log_in(client, "pw-alice")[1]


@pytest.mark.django_db
def test_two_agents_behind_one_proxy_do_not_lock_each_other_out(client, agent, settings):
    settings.THROUGHLINE_TRUSTED_PROXIES = 1

    fail_until_locked(client, remote_addr=PROXY, forwarded_for=GUESSER)

    assert not log_in(client, "pw-alice", remote_addr=PROXY, forwarded_for=GUESSER)[1]
    assert log_in(client, "pw-alice", remote_addr=PROXY, forwarded_for=COLLEAGUE)[1]


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_dodge_the_lockout(
    client, agent, settings
):
    settings.THROUGHLINE_TRUSTED_PROXIES = 0

    for n in range(settings.LOGIN_MAX_FAILURES):
        assert not log_in(client, "wrong", forwarded_for=f"192.0.2.{n + 1}")[1]

    response, logged_in = log_in(client, "pw-alice", forwarded_for=COLLEAGUE)
    assert response.status_code == 429 and not logged_in


@pytest.mark.django_db
def test_addresses_of_one_ipv6_network_share_one_count(client, agent):
    for n in range(settings.LOGIN_MAX_FAILURES):
        assert not log_in(client, "wrong", remote_addr=f"2001:db8:5:7::{n + 1:x}")[1]

    assert not log_in(client, "pw-alice", remote_addr="2001:db8:5:7:ffff::1")[1]
    assert log_in(client, "pw-alice", remote_addr="2001:db8:5:8::1")[1]  # another network


@pytest.mark.django_db
def test_the_lockout_ends_when_its_window_has_passed(client, agent):
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    with time_machine.travel(START, tick=False) as clock:
        fail_until_locked(client)

        # a try during the lockout is refused and does not prolong it
        clock.move_to(START + window - timedelta(seconds=1))
        assert not log_in(client, "pw-alice")[1]

        clock.move_to(START + window + timedelta(seconds=1))
        assert log_in(client, "pw-alice")[1]


def test_the_login_settings_set_axes_limit_and_window():
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from config import settings as s;"
            "print(s.AXES_ENABLED, s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds())",
        ],
        env=subprocess_env(LOGIN_MAX_FAILURES="3", LOGIN_FAILURE_WINDOW="60"),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    off = subprocess.run(
        [sys.executable, "-c", "from config import settings as s; print(s.AXES_ENABLED)"],
        env=subprocess_env(LOGIN_MAX_FAILURES="0"),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()

    assert shown == ["True", "3", "60.0"]
    assert off == ["False"]
