"""Teams, agents with profiles, and a clean rule cache for every routing test."""

from __future__ import annotations

import pytest

from conversations.models import AgentProfile, Identity, Team
from routing import rules
from tests.factories import CustomerFactory

CUSTOMER_PHONE = "+14155550123"
ALICE_PHONE = "+14155550171"
BOB_PHONE = "+14155550172"
CAROL_PHONE = "+14155550173"


@pytest.fixture(autouse=True)
def fresh_rules():
    rules.forget()
    yield
    rules.forget()


@pytest.fixture
def sales(db):
    return Team.objects.create(slug="sales", name="Sales")


@pytest.fixture
def support(db):
    return Team.objects.create(slug="support", name="Support")


def profile(user, *, teams=(), phone="", skills=(), capacity=5, on_call=False, available=True):
    agent = AgentProfile.objects.create(
        user=user,
        phone=phone,
        skills=list(skills),
        capacity=capacity,
        on_call=on_call,
        available=available,
    )
    agent.teams.set(teams)
    return agent


@pytest.fixture
def customer(db):
    customer = CustomerFactory(display_name="Dana Whitfield")
    Identity.objects.create(customer=customer, kind="phone", value=CUSTOMER_PHONE)
    return customer


@pytest.fixture
def routed(django_capture_on_commit_callbacks):
    """Run what commits inside the block, hooks included (routing runs after commit)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run
