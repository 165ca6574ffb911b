"""Per-key rate limit: a fixed window counted in Redis (docs/api.md, "Rate limits").

One `SET NX EX` and one `INCR` per request, in one round trip, over the process's Redis
client for counters (conversations.counters). If Redis cannot be reached the request is
let through: the database is the thing to protect, and a Redis outage must not become an
API outage.
"""

from __future__ import annotations

import logging
import math
import time

import redis
from django.conf import settings

from conversations import counters

logger = logging.getLogger(__name__)


def retry_after(key_id: int) -> int | None:
    """Count one request for this key; return the seconds to wait when over the limit."""
    limit, window = settings.API_RATE_LIMIT, settings.API_RATE_LIMIT_WINDOW
    if limit <= 0:
        return None  # switched off
    now = time.time()
    number = int(now // window)
    name = f"{settings.API_RATE_LIMIT_PREFIX}:{key_id}:{number}"
    try:
        pipeline = counters.client().pipeline(transaction=False)
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
