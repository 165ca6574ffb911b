"""A token bucket per socket: a flood from one widget is dropped without slowing others."""

from __future__ import annotations

import time


class TokenBucket:
    """`burst` frames at once, then `rate` frames per second."""

    def __init__(self, *, rate: float, burst: int, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def retry_after(self) -> float:
        """Seconds until the next frame would be taken."""
        return max(0.0, (1 - self.tokens) / self.rate)
