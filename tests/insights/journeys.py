"""A hand-built set of journeys whose figures are known (see each builder's docstring)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from conversations import journal
from conversations.cases import mark_hot, resolve_case
from conversations.identities import link_identity, resolve_customer
from conversations.models import Case, Customer, Event, Team
from insights import facts

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def at(minutes: float):
    return time_machine.travel(T0 + timedelta(minutes=minutes), tick=False)


def say(customer: Customer, channel: str, minutes: float, kind: str = "message", body: str = "hi"):
    with at(minutes):
        return journal.record(
            customer=customer, channel=channel, kind=kind, direction=Event.Direction.IN, body=body
        )


def answer(customer: Customer, channel: str, minutes: float, agent):
    with at(minutes):
        return journal.record(
            customer=customer,
            channel=channel,
            kind="message",
            direction=Event.Direction.OUT,
            body="Happy to help",
            author=agent,
        )


def touch(customer: Customer, channel: str, kind: str, minutes: float, **data):
    with at(minutes):
        return journal.record(
            customer=customer, channel=channel, kind=kind, direction=Event.Direction.IN, data=data
        )


def current_case(customer: Customer) -> Case:
    return Case.objects.get(conversation__customer=customer, resolved_at=None)


def resolve(customer: Customer, minutes: float, agent, *, intent: str, team: Team) -> Case:
    case = current_case(customer)
    Case.objects.filter(pk=case.pk).update(intent=intent, team=team)
    with at(minutes):
        resolve_case(case, by=agent)
    case.refresh_from_db()
    return case


def build(agent) -> dict[str, Customer]:
    """Cases (times in minutes after T0):

    A chat unanswered, then a call that resolved it: 2 contacts (web, voice), one switch
      web → voice; intent delivery, team Support; resolved at 120.
    B web, web, sms, sms, answered by SMS at 15, resolved at 60: 2 contacts, one switch
      web → sms; delivery, Support.
    C sms, sms 5 min later, answered at 30, resolved at 180: 1 contact; returns, Sales.
    D sms, answered at 10, sms again at 120 (a new contact after the gap), resolved at 240:
      2 contacts on one channel, no switch, and one reply to our message; returns, Sales.
    E one web message, still open.
    """
    support = Team.objects.create(slug="support", name="Support")
    sales = Team.objects.create(slug="sales", name="Sales")
    people = {name: resolve_customer("email", f"{name.lower()}@example.org") for name in "ABCDE"}
    a, b, c, d, e = people.values()
    say(a, "web", 0)
    say(a, "voice", 60, kind="call")
    resolve(a, 120, agent, intent="delivery", team=support)
    say(b, "web", 0)
    say(b, "web", 2)
    say(b, "sms", 10)
    say(b, "sms", 12)
    answer(b, "sms", 15, agent)
    resolve(b, 60, agent, intent="delivery", team=support)
    say(c, "sms", 0)
    say(c, "sms", 5)
    answer(c, "sms", 30, agent)
    resolve(c, 180, agent, intent="returns", team=sales)
    say(d, "sms", 0)
    answer(d, "sms", 10, agent)
    say(d, "sms", 120)
    resolve(d, 240, agent, intent="returns", team=sales)
    say(e, "web", 0)
    facts.rebuild()
    return people


def build_shopping() -> dict[str, Customer]:
    """F and G: web visit, cart, nudge (sent), SMS message, order.
    H: two web visits, then an order (one folded "web visit").
    I: two calls, then the case turns hot.
    Returns the customers."""
    people = {name: resolve_customer("email", f"{name.lower()}@example.org") for name in "FGHI"}
    for name in "FG":
        shopper = people[name]
        touch(shopper, "api", "page_view", 0)
        touch(shopper, "api", "cart", 5)
        with at(10):
            journal.record(
                customer=shopper,
                channel="system",
                kind="nudge",
                direction="internal",
                data={"status": "sent", "rule": "cart_abandoned"},
            )
            journal.record(
                customer=shopper,
                channel="system",
                kind="nudge",
                direction="internal",
                data={"status": "suppressed", "rule": "offers"},
            )
        say(shopper, "sms", 20)
        touch(shopper, "api", "order", 30)
    h = people["H"]
    touch(h, "api", "page_view", 0)
    touch(h, "api", "product_view", 1)
    touch(h, "api", "order", 2)
    i = people["I"]
    say(i, "voice", 0, kind="call")
    say(i, "voice", 3, kind="call")
    with at(4):
        mark_hot(current_case(i), reason="2 missed calls")
    facts.rebuild()
    return people


def link_visitor(customer: Customer, visitor: str) -> Customer:
    return link_identity(customer, "visitor", visitor)
