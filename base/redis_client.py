"""The one way to get a Redis client: one per (server, timeout) per process, on first use.

redis-py's connection pool is thread-safe and starts afresh after a fork, so a cached
client is safe in every kind of process we run (web and socket workers, Celery, `react`).
Callers choose the timeout by what waiting costs them: a request that would rather go on
without Redis (rate limits: 1 s), a scrape or a publish (2 s), a blocking
stream read that itself waits a second (5 s).
"""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


def redis_client(timeout: float = 1.0, url: str | None = None) -> redis.Redis:
    """The process's client of `url` (REDIS_URL by default) with this socket timeout."""
    return _client(url or settings.REDIS_URL, timeout)


@cache
def _client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=min(timeout, 2.0)
    )
