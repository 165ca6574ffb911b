"""Per-key rate limit: a fixed window counted in Redis (docs/api.md, "Rate limits").

One `SET NX EX` and one `INCR` per request, in one round trip, over one Redis
client per process. If Redis cannot be reached the request is let through: the database
is the thing to protect, and a Redis outage must not become an API outage.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


class _Counter:
    """One Redis client per process, made on first use (redis-py resets it after a fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: redis.Redis | None = None

    def client(self) -> redis.Redis:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = redis.Redis.from_url(
                        settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
                    )
        return self._client


counter = _Counter()


def retry_after(key_id: int) -> int | None:
    """Count one request for this key; return the seconds to wait when over the limit."""
    limit, window = settings.API_RATE_LIMIT, settings.API_RATE_LIMIT_WINDOW
    if limit <= 0:
        return None  # switched off
    now = time.time()
    number = int(now // window)
    name = f"{settings.API_RATE_LIMIT_PREFIX}:{key_id}:{number}"
    try:
        pipeline = counter.client().pipeline(transaction=False)
        # SET NX EX then INCR rather than EXPIRE NX, which needs Redis 7
        pipeline.set(name, 0, ex=window + 1, nx=True)
        pipeline.incr(name)
        _, count = pipeline.execute()
    except redis.RedisError:
        logger.warning("rate limit unavailable (Redis error); request let through", exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil((number + 1) * window - now))
