"""Locust users replaying the founding journey: `python -m bench.load.locustfile CONFIG OUT`.

Run by `python -m bench.load` (the driver, which starts the servers and writes CONFIG);
Locust is used as a library (`Environment` + `LocalRunner`), in a process of its own
because it patches the standard library for gevent on import.

Each user is a stream of shoppers: every journey (bench/load/journey.py) is a new
shopper with her own customer id, visitor, phone, SMS and call sids, answered by the
agent console session the user holds. Every step is timed (Locust's statistics get it as
a request named after the step, so its tables show them too) and kept by phase.

The phases, one after another:

1. `solo-before`: one user, journeys back to back: each step alone on the platform, the
   single-path figures the load is compared with;
2. the load stages: `stages` (multiples of the solo rate, one sequential shopper's
   journeys per minute), each for `stage_seconds`, with as many users as keep each
   user's pacing near four solo journeys' time (`constant_pacing`, spawned over one
   pacing period so they do not arrive in step);
3. `solo-after`: the single path again, so a neighbour's burst on the shared machine
   falls on both sides of the comparison.

Each phase closes to new journeys at its end and lets the ones under way finish (a
journey is never cut: cutting one would be an error of ours, not the platform's).
OUT is JSON: per phase its users, window, journeys done and failed, each step's
latencies; every journey's ledger; the first errors.
"""

# ruff: noqa: E402  (gevent patches the standard library before anything else imports it)

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before requests imports ssl and socket, as Locust needs

import itertools
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field

import gevent
from locust import User, constant, constant_pacing, events, task
from locust.env import Environment

from bench.load.clients import Agent, Platform, Shopper
from bench.load.journey import FAILURES, run_journey

DRAIN_SECONDS = 60  # at most, for the journeys under way when a phase closes
KEPT_ERRORS = 20
PACING = 4  # a user's journeys start this many solo journeys' time apart, at the stage's rate


@dataclass
class Phase:
    name: str
    users: int
    pacing: float  # seconds between a user's journey starts; 0: back to back
    seconds: float = 0.0  # how long it takes new journeys (stages)
    journeys: int = 0  # or how many journeys it runs (solo phases)
    window: float = 0.0  # measured: seconds it took new journeys
    begun: float = 0.0  # time.monotonic() when it began
    starts: list[float] = field(default_factory=list)  # of the journeys done, since `begun`
    done: int = 0
    failed: int = 0
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


class Swarm:
    """What the users share: the platform, the agents' sessions, the phase under way."""

    def __init__(self, config: dict):
        self.platform = Platform(**config["platform"])
        self.run = config["run"]
        self.logins = [tuple(login) for login in config["agents"]]
        self.agents: list[Agent] = []
        self.numbers = itertools.count(1)
        self.phase: Phase | None = None
        self.open = False
        self.in_flight = 0
        self.ledgers: list[dict] = []
        self.errors: list[str] = []

    def login(self, count: int) -> None:
        """One console session per user, made before any phase (logins are slow on purpose)."""
        for n in range(len(self.agents), count):
            self.agents.append(Agent(self.platform, *self.logins[n % len(self.logins)]))

    def journey(self, agent: Agent) -> None:
        phase = self.phase
        begun = phase.done + phase.failed + self.in_flight
        if not self.open or (phase.journeys and begun >= phase.journeys):
            gevent.sleep(0.05)
            return
        shopper = Shopper(self.run, next(self.numbers))
        start = time.monotonic() - phase.begun
        self.in_flight += 1

        def record(step: str, seconds: float) -> None:
            phase.samples[step].append(seconds)
            events.request.fire(
                request_type="step",
                name=step,
                response_time=seconds * 1000,
                response_length=0,
                exception=None,
                context={},
            )

        try:
            ledger = run_journey(self.platform, shopper, agent, record)
        except FAILURES as exc:
            phase.failed += 1
            self.ledgers.append(getattr(exc, "ledger", None) or {"ref": shopper.ref, "markers": []})
            if len(self.errors) < KEPT_ERRORS:
                self.errors.append(f"{phase.name} {shopper.ref}: {exc!r}"[:2000])
            step = getattr(exc, "step", "journey")
            events.request.fire(request_type="step", name=step, response_time=0,
                                response_length=0, exception=exc, context={})  # fmt: skip
        else:
            phase.done += 1
            phase.starts.append(start)
            self.ledgers.append(ledger)
        finally:
            self.in_flight -= 1

    def run_phase(self, runner, phase: Phase) -> None:
        ShopperUser.wait_time = constant_pacing(phase.pacing) if phase.pacing else constant(0)
        self.phase, self.open = phase, True
        started = phase.begun = time.monotonic()
        # spread the users' first journeys over one pacing period
        runner.start(phase.users, spawn_rate=phase.users / phase.pacing if phase.pacing else 100)
        while True:
            gevent.sleep(0.1)
            if phase.journeys and phase.done + phase.failed >= phase.journeys:
                break
            if phase.seconds and time.monotonic() - started >= phase.seconds:
                break
        self.open = False
        phase.window = time.monotonic() - started
        deadline = time.monotonic() + DRAIN_SECONDS
        while self.in_flight and time.monotonic() < deadline:
            gevent.sleep(0.05)
        runner.stop()
        print(
            f"  {phase.name}: {phase.users} users, {phase.done} journeys done, "
            f"{phase.failed} failed in {phase.window:.0f} s "
            f"({60 * phase.done / phase.window:.0f}/min over the whole window)",
            flush=True,
        )


SWARM: Swarm | None = None


class ShopperUser(User):
    wait_time = constant(0)

    def on_start(self):
        self.agent = SWARM.agents.pop()

    def on_stop(self):
        SWARM.agents.append(self.agent)

    @task
    def journey(self):
        SWARM.journey(self.agent)


def stages(config: dict, solo_seconds: float) -> list[Phase]:
    """The load stages, at multiples of one sequential shopper's rate. Each user starts a
    journey every PACING solo journeys' time: many shoppers, each with time between
    steps of her day, rather than a few in a tight loop (their arrivals bunch as real
    ones do)."""
    phases = []
    for multiple in config["stages"]:
        users = max(1, round(multiple * PACING))
        phases.append(
            Phase(f"{multiple:g}x", users, users * solo_seconds / multiple, config["stage_seconds"])
        )
    return phases


def main(config_path: str, out_path: str) -> None:
    global SWARM
    with open(config_path) as f:
        config = json.load(f)
    SWARM = Swarm(config)
    environment = Environment(user_classes=[ShopperUser], events=events)
    runner = environment.create_local_runner()
    before = Phase("solo-before", 1, 0, journeys=config["solo_journeys"])
    after = Phase("solo-after", 1, 0, journeys=config["solo_journeys"])
    SWARM.login(1)
    SWARM.run_phase(runner, before)
    solo_seconds = before.window / max(1, before.done)
    load = stages(config, solo_seconds)
    SWARM.login(max(phase.users for phase in load))
    for phase in [*load, after]:
        SWARM.run_phase(runner, phase)
    runner.quit()
    result = {
        "solo_seconds": solo_seconds,
        "phases": [
            {
                "name": p.name,
                "users": p.users,
                "pacing": p.pacing,
                "window": p.window,
                "starts": p.starts,
                "done": p.done,
                "failed": p.failed,
                "samples": p.samples,
            }
            for p in [before, *load, after]
        ],
        "ledgers": SWARM.ledgers,
        "errors": SWARM.errors,
    }
    with open(out_path, "w") as f:
        json.dump(result, f)
    for agent in SWARM.agents:
        agent.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m bench.load.locustfile CONFIG OUT")
    main(sys.argv[1], sys.argv[2])
