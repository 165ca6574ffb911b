"""This process's Redis client for counters (the API's rate limit, the login guard).

Made on first use and shared by every thread: redis-py's connection pool is thread-safe
and starts afresh after a fork. Short timeouts, because its callers let a request through
rather than wait on a Redis that does not answer.
"""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
