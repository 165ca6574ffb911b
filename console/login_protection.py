"""Login protection is django-axes (docs/console.md, "Login protection"); this is the one
piece of ours it calls: the client address it counts failed logins under.

Axes asks AXES_CLIENT_IP_CALLABLE for it. The answer is the address the rate limits use
(`base.limits.request_address`: X-Forwarded-For believed only as far as
THROUGHLINE_TRUSTED_PROXIES vouches for it), so agents behind one reverse proxy are
counted apart while a client cannot pick its own address by sending the header. An IPv6
client is counted by its /64, as the rate limits count it: one host usually holds the
whole network and could otherwise take a fresh count for every guess.
"""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from base import limits


def client_address(request: HttpRequest) -> str | None:
    """The address axes stores and counts for this request; None (a NULL in axes' table)
    when the server gave no usable address, e.g. on a Unix socket without a proxy."""
    try:
        address = ipaddress.ip_address(limits.request_address(request))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:1.2.3.4 is the IPv4 client 1.2.3.4
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.ip_network(f"{address}/{limits.IPV6_PREFIX}", strict=False)
        return str(network.network_address)
    return str(address)
