"""Consent follows the statement made last, not the one that arrived last: a START from
before a STOP never undoes it, whatever order they reach us in."""

from datetime import timedelta
from itertools import permutations

import pytest
from django.utils import timezone

from conversations import consent
from conversations.models import Event, Identity
from tests.factories import IdentityFactory

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0) - timedelta(hours=2)


def at(minute: int):
    return START + timedelta(minutes=minute)


def say(identity, action: str, minute: int) -> Event:
    verb = consent.opt_out if action == "stop" else consent.opt_in
    return verb(identity, source=f"sms:{action.upper()}-{minute}", occurred_at=at(minute))


def consent_state(statements):
    """The identity's consent after these (action, minute) statements, in this order."""
    identity = IdentityFactory(
        kind=Identity.Kind.PHONE, value=f"+1415555{Identity.objects.count():04d}"
    )
    for action, minute in statements:
        say(identity, action, minute)
    identity.refresh_from_db()
    return identity.opted_out_at, identity.consented_at, identity.consent_source


def every_order(statements) -> dict:
    return {order: consent_state(order) for order in permutations(statements)}


def test_a_late_start_from_before_a_stop_leaves_the_number_opted_out():
    states = every_order([("stop", 10), ("start", 5)])

    assert states == dict.fromkeys(states, (at(10), at(5), "sms:STOP-10"))


def test_a_late_stop_from_before_a_start_leaves_the_number_opted_in():
    states = every_order([("stop", 1), ("start", 5)])

    assert states == dict.fromkeys(states, (None, at(5), "sms:START-5"))


def test_any_order_of_stops_and_starts_ends_as_the_last_one_said():
    states = every_order([("stop", 1), ("start", 2), ("stop", 3), ("stop", 4)])

    # out since the first stop after the last start (which stays the last consent given)
    assert states == dict.fromkeys(states, (at(3), at(2), "sms:STOP-3"))


def test_after_a_stop_the_first_start_is_when_consent_came_back():
    states = every_order([("stop", 1), ("start", 3), ("start", 4)])

    assert states == dict.fromkeys(states, (None, at(3), "sms:START-3"))


def test_a_stop_and_a_start_at_the_same_moment_leave_the_number_opted_out():
    states = every_order([("stop", 2), ("start", 2)])

    assert states == dict.fromkeys(states, (at(2), at(2), "sms:STOP-2"))


def test_a_late_statement_is_recorded_at_its_time_and_says_it_changed_nothing():
    identity = IdentityFactory(kind=Identity.Kind.PHONE, value="+14155550100")
    say(identity, "stop", 10)

    event = say(identity, "start", 5)

    assert event.occurred_at == at(5) and event.kind == "consent"
    assert event.data["late"] is True and event.data["changed"] is False
    assert consent.is_opted_out(Identity.Kind.PHONE, "+14155550100")


def test_a_statement_in_time_says_it_changed_the_state():
    identity = IdentityFactory(kind=Identity.Kind.PHONE, value="+14155550101")

    event = consent.opt_out(identity, source="sms:STOP")

    assert event.data["changed"] is True and event.data["late"] is False
    assert consent.is_opted_out(Identity.Kind.PHONE, "+14155550101")
