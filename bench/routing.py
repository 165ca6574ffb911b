"""Routing of one inbound event against a plain `record()` of it: `python -m bench.routing`.

The figure (issue 9, "Benchmark"): an inbound SMS on a case routing already handled (its
intent, team and agent set; rules, teams and agents configured): `record()` followed by
routing's reaction to the event (`routing.hooks.on_event`, what a `manage.py react`
process runs for it), against the very same `record()` alone, with no hook or reaction
configured. Floor and routed appends alternate in short rounds; the figure is the median
over rounds of (routed - floor) / floor, target <= 1.

The first event of a new case (its intent and team, from the text or the customer
context, and its assignment under the agent locks), routing's expensive half, has its
figures in bench/reactions.py, beside the other reactions' per-event costs; it uses this
module's `configure` and `quiet_journal`.

`routing_added_cost()` returns the verdict line, `routing.follow_up_added_cost` (it needs
Django set up and a database). It used to be listed among bench/console.py's figures as
well, so `make bench` printed it twice; it runs here only.

Runs on a scratch database, `throughline_bench_routing`, made and dropped here.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from bench import median, scratch_database, setup_django, verdict

DATABASE = "throughline_bench_routing"
ROUNDS = 15
PER_ROUND = 40  # appends per mode per round
WARMUP = 30
BODY = "Hi! Is the T900 treadmill quiet enough for a flat? I'd like it before Friday."


_routing = {"on": False}


def _hooks(on: bool) -> None:
    """Route (or not) what `_append` records; nothing else reacts either way."""
    from django.conf import settings

    settings.THROUGHLINE_EVENT_HOOKS = []
    settings.THROUGHLINE_EVENT_REACTIONS = []
    _routing["on"] = on


@contextmanager
def quiet_journal():
    """record() with no hook and no reaction configured (restored on the way out)."""
    from django.conf import settings

    saved = settings.THROUGHLINE_EVENT_HOOKS, settings.THROUGHLINE_EVENT_REACTIONS
    _hooks(False)
    try:
        yield
    finally:
        settings.THROUGHLINE_EVENT_HOOKS, settings.THROUGHLINE_EVENT_REACTIONS = saved


def configure():
    """Teams, agents, rules, and a customer whose case routing has handled."""
    from django.contrib.auth import get_user_model

    from conversations.identities import resolve_customer
    from conversations.models import AgentProfile, Case, Team
    from routing import rules
    from routing.models import HotRule, IntentRule

    sales = Team.objects.get_or_create(slug="sales", defaults={"name": "Sales"})[0]
    support = Team.objects.get_or_create(slug="support", defaults={"name": "Support"})[0]
    for n in range(6):
        user = get_user_model().objects.create_user(f"bench-agent-{n}", is_staff=True)
        profile = AgentProfile.objects.create(
            user=user,
            available=True,
            capacity=10_000,
            phone=f"+1415555{n:04d}",
            skills=["treadmills"] if n % 2 else ["returns"],
        )
        profile.teams.set([sales if n % 2 else support])
    IntentRule.objects.create(
        name="Orders", phrases=["where is my order", "tracking"], intent="order", team=support
    )
    IntentRule.objects.create(name="Treadmills", phrases=["t900"], intent="treadmill", team=sales)
    HotRule.objects.create(name="Escalation", keywords=["cancel", "refund", "lawyer", "broken"])
    rules.forget()
    customer = resolve_customer("phone", "+14155550999", display_name="Bench Shopper")
    _hooks(True)
    _append(customer)
    case = Case.objects.get(conversation__customer=customer)
    assert case.intent and case.assignee_id, "the first event was not routed"
    return customer


def _append(customer) -> float:
    from conversations import journal
    from routing.hooks import on_event

    started = time.perf_counter()
    event = journal.record(
        customer=customer, channel="sms", kind="message", direction="in", body=BODY
    )
    if _routing["on"]:
        on_event(event)
    return time.perf_counter() - started


def _follow_up_cost(customer) -> float:
    ratios = []
    for on in (False, True):
        _hooks(on)
        for _ in range(WARMUP):
            _append(customer)
    for _ in range(ROUNDS):
        times = {}
        for on in (False, True):
            _hooks(on)
            times[on] = median([_append(customer) for _ in range(PER_ROUND)])
        ratios.append((times[True] - times[False]) / times[False])
    return median(ratios)


def routing_added_cost() -> list[str]:
    with quiet_journal():
        customer = configure()
        added = _follow_up_cost(customer)
        _hooks(False)
    print(
        f"follow-up routed: (record + routing - record) / record, median of {ROUNDS} rounds: "
        f"{added:.2f}",
        flush=True,
    )
    return [verdict("routing.follow_up_added_cost", added, at_most=1)]


def main() -> None:
    with scratch_database(DATABASE):
        lines = routing_added_cost()
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    setup_django()
    main()
