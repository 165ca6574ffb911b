"""Issuing and checking API keys."""

from __future__ import annotations

import hashlib
import secrets

from django.http import HttpRequest

from .models import ApiKey

KEY_PREFIX = "tl_"
PREFIX_CHARS = 11  # "tl_" and the first 8 characters of the secret


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_key(*, name: str) -> tuple[ApiKey, str]:
    """Make a key; return it with the raw secret, which is never shown again."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(name=name, prefix=raw[:PREFIX_CHARS], key_hash=hash_key(raw))
    return api_key, raw


def presented_key(request: HttpRequest) -> str:
    """The key in `Authorization: Bearer <key>` or `X-Api-Key: <key>`, or ""."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-Api-Key", "").strip()


def authenticate(request: HttpRequest) -> ApiKey | None:
    return authenticate_raw(presented_key(request))


def authenticate_raw(raw: str) -> ApiKey | None:
    """The active key whose secret is `raw`, or None."""
    if not raw or len(raw) > 200:
        return None
    # Looked up by hash: the index never sees the secret, and equal hashes mean equal keys.
    return ApiKey.objects.filter(key_hash=hash_key(raw), active=True).first()
