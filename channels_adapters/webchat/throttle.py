"""A token bucket per socket: a flood from one widget is dropped without slowing others.

The bucket reads time from the clock it is given (`time.monotonic` in service). Tests
give it a `ManualClock` (through `WidgetConsumer.as_asgi(clock=...)`), so what a flood
stores depends on the clock they move, not on how fast a loaded machine runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ManualClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 0.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        self.now += seconds


class TokenBucket:
    """`burst` frames at once, then `rate` frames per second."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def retry_after(self) -> float:
        """Seconds until the next frame would be taken."""
        return max(0.0, (1 - self.tokens) / self.rate)
