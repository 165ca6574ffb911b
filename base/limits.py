"""Counters in Redis: this process's client, fixed-window limits, and per-address limits.

The client is made on first use and shared by every thread: redis-py's connection pool is
thread-safe and starts afresh after a fork. Short timeouts, because its callers let a
request through rather than wait on a Redis that does not answer.

Users: the API's rate limit per key (api/ratelimit.py) and the limits
per client address on the public, unauthenticated writes (the widget's endpoints and
socket, the in-store scan, the customer's signed pages; docs/widget.md, "What anonymous
traffic costs"). The client address is proxy-aware only as far as the deployment says
(THROUGHLINE_TRUSTED_PROXIES): `X-Forwarded-For` is never believed blindly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from functools import wraps

import redis
from django.conf import settings
from django.http import HttpResponse, JsonResponse

from base.redis_client import redis_client

logger = logging.getLogger(__name__)

# An IPv6 host usually holds a whole /64: counting single addresses would let one machine
# take a fresh limit per request.
IPV6_PREFIX = 64


def client() -> redis.Redis:
    return redis_client(timeout=1)


# ---------------------------------------------------------------------------- fixed windows


def count_in_window(name: str, *, limit: int, window: int, now: float | None = None) -> int | None:
    """Count one hit on counter `name` in the current window of `window` seconds; return
    the seconds until that window ends when the count is past `limit`, else None.

    One `SET NX EX` and one `INCR` in one round trip (SET NX EX then INCR rather than
    EXPIRE NX, which needs Redis 7). A Redis error lets the hit through: the database is
    the thing to protect, and a Redis outage must not become an outage of the caller.
    """
    if limit <= 0:
        return None  # switched off
    now = time.time() if now is None else now
    number = int(now // window)
    key = f"{name}:{number}"
    try:
        pipeline = client().pipeline(transaction=False)
        pipeline.set(key, 0, ex=window + 1, nx=True)
        pipeline.incr(key)
        _, count = pipeline.execute()
    except redis.RedisError:
        logger.warning("rate limit unavailable (Redis error); request let through", exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil((number + 1) * window - now))


# ---------------------------------------------------------------------------- client addresses


def client_address(remote_addr: str, forwarded_for: str = "") -> str:
    """The address of the client, as far as this deployment can vouch for it.

    With THROUGHLINE_TRUSTED_PROXIES = 0 (the default) that is the peer's own address
    (`REMOTE_ADDR`), whatever `X-Forwarded-For` says: anyone can send that header. With
    n > 0 proxies in front, each appending the address it saw, the n-th entry from the
    right is the one the outermost trusted proxy saw; entries left of it were written by
    the client and are ignored. A header with fewer than n entries, or an entry that is
    not an address, means the request did not come through the proxies: the peer's own
    address is used.
    """
    hops = settings.THROUGHLINE_TRUSTED_PROXIES
    if hops > 0 and forwarded_for:
        entries = [entry.strip() for entry in forwarded_for.split(",")]
        if len(entries) >= hops:
            candidate = entries[-hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return remote_addr or ""


def request_address(request) -> str:
    return client_address(
        request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", "")
    )


def address_key(address: str) -> str:
    """What one client is counted under: its IPv4 address, or its IPv6 /64; hashed, so no
    address sits in Redis in clear."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        text = address or "unknown"
    else:
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped  # ::ffff:1.2.3.4 is the IPv4 client 1.2.3.4
        if isinstance(parsed, ipaddress.IPv6Address):
            text = str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
        else:
            text = str(parsed)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def address_retry_after(bucket: str, address: str, *, now: float | None = None) -> int | None:
    """Count one request of group `bucket` (a key of ADDRESS_RATE_LIMITS) from `address`;
    the seconds to wait when that address is over the group's limit, else None."""
    limit = settings.ADDRESS_RATE_LIMITS.get(bucket, 0)
    name = f"{settings.ADDRESS_RATE_LIMIT_PREFIX}:{bucket}:{address_key(address)}"
    return count_in_window(name, limit=limit, window=settings.ADDRESS_RATE_LIMIT_WINDOW, now=now)


def too_many_requests(retry_after: int, *, json: bool = True) -> HttpResponse:
    """429 with `Retry-After` and a message a person (or the widget) can show."""
    message = f"Too many requests from your network; try again in {retry_after} seconds."
    response: HttpResponse
    if json:
        response = JsonResponse({"error": message, "retry_after": retry_after}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def limit_per_address(bucket: str, *, methods: tuple[str, ...] = ("POST",), json: bool = True):
    """Decorate a public view: its `methods` (the writes) count against the client
    address's limit for `bucket`; past it, 429 without calling the view."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                wait = address_retry_after(bucket, request_address(request))
                if wait is not None:
                    return too_many_requests(wait, json=json)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
