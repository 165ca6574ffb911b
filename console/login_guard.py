"""Login protection against password guessing (docs/console.md, "Login protection").

`GuardedModelBackend` is Django's ModelBackend with a counter in Redis per (username, IP
address): after LOGIN_MAX_FAILURES failures within LOGIN_FAILURE_WINDOW seconds, that pair
is refused until the window ends, even with the right password, so a guesser cannot tell
when they found it. A success clears the count. Counting per pair rather than per
username keeps an attacker from locking a real agent out from elsewhere. If Redis is
down, logins go through unguarded rather than nobody being able to log in.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

import redis
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from base import limits

logger = logging.getLogger(__name__)


def _key(username: str, ip: str) -> str:
    # hashed: usernames (often e-mail addresses) never sit in Redis in clear
    digest = hashlib.sha256(f"{username.strip().lower()}|{ip}".encode()).hexdigest()
    return f"{settings.LOGIN_GUARD_PREFIX}:{digest[:32]}"


def _ip(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""


def is_locked_out(username: str, ip: str) -> bool:
    if settings.LOGIN_MAX_FAILURES <= 0:
        return False
    try:
        count = limits.client().get(_key(username, ip))
    except redis.RedisError:
        logger.warning("login guard unavailable (Redis error); login not guarded")
        return False
    return count is not None and int(count) >= settings.LOGIN_MAX_FAILURES


def record_failure(username: str, ip: str) -> int:
    """Count one failed login for this pair; return the count within the window."""
    if settings.LOGIN_MAX_FAILURES <= 0:
        return 0
    key = _key(username, ip)
    try:
        pipeline = limits.client().pipeline(transaction=False)
        pipeline.set(key, 0, ex=settings.LOGIN_FAILURE_WINDOW, nx=True)
        pipeline.incr(key)
        _, count = pipeline.execute()
    except redis.RedisError:
        return 0
    if count == settings.LOGIN_MAX_FAILURES:
        logger.warning("login locked out for one username from %s after %s failures", ip, count)
    return count


def clear_failures(username: str, ip: str) -> None:
    with contextlib.suppress(redis.RedisError):
        limits.client().delete(_key(username, ip))


class GuardedModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field(), "")
        username, ip = str(username or ""), _ip(request)
        if is_locked_out(username, ip):
            # PermissionDenied stops Django trying any other backend; the form says only
            # that the login failed.
            raise PermissionDenied("Too many failed logins; try again later.")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(username, ip)
        else:
            clear_failures(username, ip)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
