"""The load run's figures from the swarm's result: per-step p50/p99 by phase, the ratios
to the single path, the sustained rate, and the verdict lines."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench import verdict
from bench.load.journey import STEPS

MAX_P99_RATIO = 2.0  # a step's p99 under load, at most this times its single-path p99
# The sustained rate, at least this share of the single path's. One shopper after another
# keeps about one core busy with the server's work; the machines we run on have two, for
# five processes and the load generator (docs/load.md, "Measured").
MIN_RATE_SHARE = 0.5


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Stage:
    name: str
    users: int
    rate: float  # journeys per minute, measured
    failed: int
    p50: dict[str, float]
    p99: dict[str, float]
    ratios: dict[str, float]  # p99 / single-path p99

    @property
    def sustained(self) -> bool:
        return not self.failed and all(r <= MAX_P99_RATIO for r in self.ratios.values())


@dataclass
class Figures:
    solo_rate: float  # journeys per minute of one shopper after another
    solo_p50: dict[str, float]
    solo_p99: dict[str, float]
    stages: list[Stage]
    failed: int  # journeys, in every phase

    @property
    def best(self) -> Stage | None:
        """The fastest stage whose every step kept its p99 within MAX_P99_RATIO."""
        held = [stage for stage in self.stages if stage.sustained]
        return max(held, key=lambda stage: stage.rate) if held else None


def figures(result: dict) -> Figures:
    phases = result["phases"]
    solo = [p for p in phases if p["name"].startswith("solo")]
    load = [p for p in phases if not p["name"].startswith("solo")]
    steps = [s for s in STEPS if any(p["samples"].get(s) for p in solo)]
    pooled = {s: [v for p in solo for v in p["samples"].get(s, [])] for s in steps}
    solo_p50 = {s: percentile(pooled[s], 0.5) for s in steps}
    solo_p99 = {s: percentile(pooled[s], 0.99) for s in steps}
    stages = []
    for phase in load:
        samples = phase["samples"]
        p50 = {s: percentile(samples[s], 0.5) for s in steps if samples.get(s)}
        p99 = {s: percentile(samples[s], 0.99) for s in steps if samples.get(s)}
        # a step the stage never reached is no success
        ratios = {s: p99[s] / solo_p99[s] if s in p99 else math.inf for s in steps}
        rate = steady_rate(phase)
        stages.append(Stage(phase["name"], phase["users"], rate, phase["failed"], p50, p99, ratios))
    solo_done = sum(p["done"] for p in solo)
    solo_window = sum(p["window"] for p in solo)
    return Figures(
        solo_rate=60 * solo_done / solo_window if solo_window else 0.0,
        solo_p50=solo_p50,
        solo_p99=solo_p99,
        stages=stages,
        failed=sum(p["failed"] for p in phases),
    )


def steady_rate(phase: dict) -> float:
    """Journeys per minute once every user is under way: the users start one after
    another over the first pacing period, which would otherwise count as a slow start."""
    ramp = phase["pacing"]
    steady = phase["window"] - ramp
    if steady <= 0:
        return 0.0
    return 60 * sum(1 for start in phase["starts"] if start >= ramp) / steady


def table(figures: Figures) -> str:
    """One line per step: p50/p99 in ms alone, then at each stage with the p99 ratio."""
    head = f"{'step':16} {'single path':>15}" + "".join(
        f" | {s.name} ({s.users} users, {s.rate:.0f}/min)".ljust(34) for s in figures.stages
    )
    lines = [head, "-" * len(head)]
    for step in figures.solo_p99:
        line = f"{step:16} {_ms(figures.solo_p50[step])}/{_ms(figures.solo_p99[step])}".ljust(32)
        for stage in figures.stages:
            if step in stage.p99:
                shown = f"{_ms(stage.p50[step])}/{_ms(stage.p99[step])} ({stage.ratios[step]:.2f}x)"
            else:
                shown = "never reached"
            line += f" | {shown}".ljust(34)
        lines.append(line)
    lines.append("(p50/p99 in ms; the ratio is the stage's p99 over the single path's)")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:6.0f}"


def verdicts(figures: Figures, lost: int) -> list[str]:
    """`load.journeys_per_minute`: the sustained rate (0 when no stage held), at least
    MIN_RATE_SHARE of the single path's (one shopper after another); each step's p99
    ratio at that stage (at the first stage when none held); `load.lost` and
    `load.errors`. Lost events or failed journeys make every figure `short`: a rate bought
    with them is no rate."""
    best = figures.best
    shown = best or (figures.stages[0] if figures.stages else None)
    lines = [
        verdict(
            "load.journeys_per_minute",
            round(best.rate) if best else 0,
            at_least=round(MIN_RATE_SHARE * figures.solo_rate),
        )
    ]
    if shown is not None:
        lines += [
            verdict(f"load.{step}_p99_ratio", ratio, at_most=MAX_P99_RATIO)
            for step, ratio in shown.ratios.items()
        ]
    lines += [
        verdict("load.lost", lost, at_most=0),
        verdict("load.errors", figures.failed, at_most=0),
    ]
    if lost or figures.failed:
        lines = [line.removesuffix(" ok").removesuffix(" short") + " short" for line in lines]
    return lines
