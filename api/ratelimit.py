"""Per-key rate limit: a fixed window counted in Redis (docs/api.md, "Rate limits").

The same counter as the per-address limits of the public pages
(`base.limits.count_in_window`): one round trip per request, and a Redis
outage lets the request through rather than becoming an API outage.
"""

from __future__ import annotations

from django.conf import settings

from base import limits


def retry_after(key_id: int) -> int | None:
    """Count one request for this key; return the seconds to wait when over the limit."""
    return limits.count_in_window(
        f"{settings.API_RATE_LIMIT_PREFIX}:{key_id}",
        limit=settings.API_RATE_LIMIT,
        window=settings.API_RATE_LIMIT_WINDOW,
    )
