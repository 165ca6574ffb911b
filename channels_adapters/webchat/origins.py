"""Which page origins may talk to the widget endpoints of a site.

A site lists the exact origins of the shop's pages (`Site.allowed_origins`); the
platform's own origins (PUBLIC_BASE_URL, and the host serving the request, where the demo
shop lives) are always allowed. This check, with the signed visitor token, is what
stands in for CSRF protection on the widget's HTTP endpoints.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from .models import Site


def platform_base_url() -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/")


def normalise_origin(value: str) -> str:
    """`scheme://host[:port]`, lower-cased, default ports dropped; "" if not an origin."""
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    try:
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def origin_allowed(site: Site, origin: str, *, own_host: str = "") -> bool:
    """Whether a page at `origin` may use `site`'s widget. `own_host` is the Host this
    request reached (`host[:port]`): a page served by this very server is ours."""
    origin = normalise_origin(origin)
    if not origin:
        return False
    allowed = {normalise_origin(o) for o in site.allowed_origins if isinstance(o, str)}
    allowed.add(normalise_origin(platform_base_url()))
    if origin in allowed:
        return True
    return bool(own_host) and urlsplit(origin).netloc == own_host.lower()
