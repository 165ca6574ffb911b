"""`/healthz` (the process answers) and `/readyz` (it can reach PostgreSQL and Redis)."""

import logging

import redis
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from base.redis_client import redis_client

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    ready = all(checks.values())
    body = {"status": "ok" if ready else "unavailable"}
    body.update({name: "ok" if ok else "unreachable" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if ready else 503)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.warning("readyz: database unreachable", exc_info=True)
        return False


def _redis_ok() -> bool:
    try:
        return bool(redis_client(timeout=1).ping())
    except redis.RedisError:
        logger.warning("readyz: redis unreachable")
        return False
