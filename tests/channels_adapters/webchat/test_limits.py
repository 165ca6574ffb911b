"""Per-address limits on the public writes: 429 with Retry-After, other addresses untouched."""

import pytest
import time_machine
from channels.db import database_sync_to_async as sync_to_async
from django.test import Client
from django.utils import timezone

from base import limits as counters
from conversations import links
from conversations.identities import resolve_customer
from conversations.models import Event

from .conftest import SHOP_ORIGIN, post, receive_until, visitor, widget_socket

SHOPPER, NEIGHBOUR = "203.0.113.7", "198.51.100.9"


def limit(settings, **limits):
    settings.ADDRESS_RATE_LIMITS = {**settings.ADDRESS_RATE_LIMITS, **limits}


@pytest.mark.django_db
def test_sessions_past_the_limit_get_429_while_another_address_is_unaffected(site, settings):
    limit(settings, session=3)
    body = {"site": site.public_key}
    start = timezone.now().replace(second=10, microsecond=0)

    with time_machine.travel(start, tick=False):
        allowed = [post(Client(REMOTE_ADDR=SHOPPER), "/widget/session", body) for _ in range(3)]
        refused = post(Client(REMOTE_ADDR=SHOPPER), "/widget/session", body)
        neighbour = post(Client(REMOTE_ADDR=NEIGHBOUR), "/widget/session", body)
    with time_machine.travel(start.replace(second=0) + timezone.timedelta(minutes=1)):
        next_window = post(Client(REMOTE_ADDR=SHOPPER), "/widget/session", body)

    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"  # the rest of the minute's window
    assert refused.json()["error"] == (
        "Too many requests from your network; try again in 50 seconds."
    )
    assert refused["Access-Control-Allow-Origin"] == SHOP_ORIGIN  # the widget can read it
    assert neighbour.status_code == 200
    assert next_window.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "bucket", "extra"),
    [
        ("/widget/identify", "identify", {"userId": "42", "hash": "0" * 64}),
        ("/widget/track", "track", {"type": "page_viewed", "props": {}}),
        ("/widget/phone/start", "phone", {"phone": "not a number"}),
        ("/widget/phone/confirm", "phone", {"code": "000000"}),
    ],
)
def test_every_widget_write_is_limited_per_address(site, settings, path, bucket, extra):
    limit(settings, **{bucket: 1})
    _, token = visitor()
    body = {"site": site.public_key, "token": token, **extra}

    first = post(Client(REMOTE_ADDR=SHOPPER), path, body)
    second = post(Client(REMOTE_ADDR=SHOPPER), path, body)
    neighbour = post(Client(REMOTE_ADDR=NEIGHBOUR), path, body)

    assert first.status_code != 429
    assert second.status_code == 429 and int(second["Retry-After"]) >= 1
    assert neighbour.status_code == first.status_code


@pytest.mark.django_db
def test_the_customers_signed_pages_limit_their_writes_not_their_reads(settings):
    limit(settings, page=1)
    customer = resolve_customer("visitor", "v_someone")
    path = links.url_for(customer, "preferences").removeprefix(settings.PUBLIC_BASE_URL)
    client = Client(REMOTE_ADDR=SHOPPER)

    saved = client.post(path, {})
    refused = client.post(path, {})
    still_readable = client.get(path)

    assert saved.status_code == 302
    assert refused.status_code == 429
    assert refused["Content-Type"] == "text/plain; charset=utf-8"
    assert b"Too many requests" in refused.content
    assert still_readable.status_code == 200


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_gets_no_fresh_limit_by_default(site, settings):
    limit(settings, session=1)
    body = {"site": site.public_key}

    first = post(Client(REMOTE_ADDR=SHOPPER), "/widget/session", body)
    spoofed = Client(REMOTE_ADDR=SHOPPER, HTTP_X_FORWARDED_FOR="192.0.2.55")
    second = post(spoofed, "/widget/session", body)

    assert (first.status_code, second.status_code) == (200, 429)


@pytest.mark.django_db
def test_behind_one_trusted_proxy_the_address_it_saw_is_counted(site, settings):
    limit(settings, session=1)
    settings.THROUGHLINE_TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    body = {"site": site.public_key}

    def through_proxy(forwarded_for):
        client = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded_for)
        return post(client, "/widget/session", body).status_code

    # the client may prepend anything; the proxy appends the address it saw
    assert through_proxy(f"192.0.2.55, {SHOPPER}") == 200
    assert through_proxy(f"192.0.2.56, {SHOPPER}") == 429
    assert through_proxy(NEIGHBOUR) == 200


@pytest.mark.parametrize(
    ("hops", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.2", "203.0.113.7", "10.0.0.2"),  # the header is ignored
        (1, "10.0.0.2", "1.1.1.1, 203.0.113.7", "203.0.113.7"),
        (2, "10.0.0.3", "1.1.1.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "10.0.0.3", "203.0.113.7", "10.0.0.3"),  # fewer entries than proxies
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(
    settings, hops, remote, forwarded, expected
):
    settings.THROUGHLINE_TRUSTED_PROXIES = hops

    assert counters.client_address(remote, forwarded) == expected


def test_an_ipv6_client_is_counted_by_its_64_and_ipv4_mapped_as_ipv4():
    same_host = counters.address_key("2001:db8:1:2::1"), counters.address_key("2001:db8:1:2::ff")

    assert same_host[0] == same_host[1]
    assert counters.address_key("2001:db8:1:3::1") != same_host[0]
    assert counters.address_key("::ffff:203.0.113.7") == counters.address_key("203.0.113.7")


@pytest.mark.django_db(transaction=True)
async def test_socket_connections_and_messages_are_limited_per_address(site, settings):
    limit(settings, socket=2, message=2)
    _, token = visitor()

    sockets = [await widget_socket(site.public_key, token, client=SHOPPER) for _ in range(3)]
    neighbour = await widget_socket(site.public_key, token, client=NEIGHBOUR)

    assert [connected for _, connected, _ in sockets] == [True, True, False]
    assert sockets[2][2] == 4429
    assert neighbour[1] is True
    # messages count over every socket of the address
    first, second = sockets[0][0], sockets[1][0]
    for communicator in (first, second):
        await communicator.receive_json_from(timeout=5)  # ready
    await first.send_json_to({"type": "message", "id": "c-1", "body": "one"})
    await second.send_json_to({"type": "message", "id": "c-2", "body": "two"})
    await first.send_json_to({"type": "message", "id": "c-3", "body": "three"})
    error = await receive_until(first, "error")
    assert (error["code"], error["id"]) == ("rate_limited", "c-3")
    stored = await sync_to_async(list)(
        Event.objects.filter(kind="message").values_list("body", flat=True)
    )
    assert sorted(stored) == ["one", "two"]
    for communicator, *_ in [*sockets[:2], neighbour]:
        await communicator.disconnect()
