"""Where a console page opens its agent socket, and what to open when it cannot.

The socket logs in with the admin session cookie, and a browser sends a cookie only to the
host name it was set on (ports do not count). `make run` names the socket's host
`localhost`; an agent who opened the console on `127.0.0.1` is logged in there, so the
socket got no cookie, was turned away and retried forever (issue 18). A loopback socket
host is therefore given the page's own loopback name: the same machine, and the cookie
goes along. docs/console.md, "Connection".
"""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.http.request import split_domain_port

# The names of this machine that a browser treats as different cookie hosts.
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _page_hostname(request) -> str:
    hostname, _ = split_domain_port(request.get_host())
    return hostname.strip("[]")


def _netloc(hostname: str, port: int | None) -> str:
    shown = f"[{hostname}]" if ":" in hostname else hostname
    return f"{shown}:{port}" if port else shown


def socket_url_for_page(socket_url: str, request) -> str:
    """The socket URL with a loopback host renamed to the page's loopback host name."""
    parts = urlsplit(socket_url)
    page_hostname = _page_hostname(request)
    if (
        parts.hostname in LOOPBACK_NAMES
        and page_hostname in LOOPBACK_NAMES
        and parts.hostname != page_hostname
    ):
        parts = parts._replace(netloc=_netloc(page_hostname, parts.port))
    return urlunsplit(parts)


def open_instead(request) -> str:
    """This page at the deployment's own address, when the agent is somewhere else.

    Shown only if the socket never connects: a page on another host name may carry no
    login for the socket's host, or be refused by its origin check (ALLOWED_HOSTS).
    """
    public = settings.PUBLIC_BASE_URL
    if not public or urlsplit(public).hostname == _page_hostname(request):
        return ""
    return public + request.get_full_path()
