"""/widget.js and POST /widget/session: the script, tokens, history and the greeting."""

import pytest
from django.test import Client

from channels_adapters.webchat import inbound, outbound
from conversations import links
from conversations.visitors import read_visitor_token

from .conftest import SHOP_ORIGIN, post

pytestmark = pytest.mark.django_db


def test_the_script_is_served_as_javascript_with_short_revalidated_caching(client):
    response = client.get("/widget.js")
    again = client.get("/widget.js", headers={"If-None-Match": response["ETag"]})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=300"
    assert b"window.Throughline" in response.content
    assert again.status_code == 304


def test_a_new_visitor_gets_a_token_an_empty_history_and_the_default_greeting(site):
    response = post(Client(), "/widget/session", {"site": site.public_key})

    data = response.json()
    assert response.status_code == 200
    assert read_visitor_token(data["token"]).startswith("v_")
    assert (data["messages"], data["cursor"], data["greeting"]) == ([], 0, site.default_greeting)
    assert data["socket_url"] == "ws://testserver/ws/widget/"
    assert response["Access-Control-Allow-Origin"] == SHOP_ORIGIN


def test_a_returning_visitor_gets_their_history_after_a_seq(site, agent):
    first = post(Client(), "/widget/session", {"site": site.public_key}).json()
    visitor_id = read_visitor_token(first["token"])
    inbound.receive_message(visitor_id=visitor_id, client_id="c-1", body="hello")
    customer = inbound.visitor_customer(visitor_id)
    outbound.reply_on_web(customer=customer, author=agent, body="hi!")

    everything = post(
        Client(), "/widget/session", {"site": site.public_key, "token": first["token"]}
    ).json()
    since_one = post(
        Client(),
        "/widget/session",
        {"site": site.public_key, "token": first["token"], "after_seq": 1},
    ).json()

    assert read_visitor_token(everything["token"]) == visitor_id
    assert [(m["body"], m["client_id"]) for m in everything["messages"]] == [
        ("hello", "c-1"),
        ("hi!", ""),
    ]
    assert [m["body"] for m in since_one["messages"]] == ["hi!"]
    assert since_one["cursor"] == 2


@pytest.mark.parametrize(
    ("body", "origin", "status"),
    [
        ({"site": "pk_unknown"}, SHOP_ORIGIN, 404),
        ({"site": None}, SHOP_ORIGIN, 404),
        ({}, "https://evil.example", 403),
        ({}, "", 403),
        ({"token": "forged"}, SHOP_ORIGIN, 403),
        ({"after_seq": -1}, SHOP_ORIGIN, 400),
    ],
)
def test_a_bad_session_request_is_refused_with_a_reason(site, body, origin, status):
    response = post(Client(), "/widget/session", {"site": site.public_key, **body}, origin=origin)

    assert response.status_code == status
    assert response.json()["error"]


def test_the_cors_preflight_is_answered():
    response = Client().options("/widget/session", headers={"Origin": SHOP_ORIGIN})

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert response["Access-Control-Allow-Headers"] == "Content-Type"


def test_track_feeds_a_commerce_event_for_the_visitor(site):
    token = post(Client(), "/widget/session", {"site": site.public_key}).json()["token"]
    snapshot = {
        "items": [{"sku": "T900", "name": "T900", "quantity": 1, "price": "1299.00"}],
        "currency": "USD",
    }

    response = post(
        Client(),
        "/widget/track",
        {"site": site.public_key, "token": token, "type": "cart_updated", "props": snapshot},
    )
    refused = post(
        Client(),
        "/widget/track",
        {"site": site.public_key, "token": token, "type": "drop_tables", "props": {}},
    )

    customer = inbound.visitor_customer(read_visitor_token(token))
    assert response.status_code == 202
    assert customer.conversation.events.filter(channel="web", kind="cart").exists()
    assert (refused.status_code, refused.json()["field"]) == (400, "type")


def test_the_demo_shop_serves_its_pages_with_the_widget(client):
    home = client.get("/widget/demo/")
    product = client.get("/widget/demo/products/t900-folding-treadmill/")

    assert home.status_code == product.status_code == 200
    assert b'data-site="pk_demo_throughline_shop"' in home.content
    assert b"T900 Folding Treadmill" in product.content
    assert client.get("/widget/demo/products/nope/").status_code == 404


def test_the_demo_shop_is_off_unless_enabled(client, settings):
    settings.WIDGET_DEMO = False

    assert client.get("/widget/demo/").status_code == 404


def test_the_session_links_the_shoppers_own_preference_page(site, settings):
    # given a visitor who wrote (an anonymous one has no preferences to set)
    first = post(Client(), "/widget/session", {"site": site.public_key}).json()
    assert first["preferences_url"] is None
    visitor_id = read_visitor_token(first["token"])
    inbound.receive_message(visitor_id=visitor_id, client_id="c-1", body="hello")

    data = post(Client(), "/widget/session", {"site": site.public_key, "token": first["token"]})
    link = data.json()["preferences_url"]

    customer = inbound.visitor_customer(visitor_id)
    assert link.startswith(f"{settings.PUBLIC_BASE_URL}/c/") and link.endswith("/preferences/")
    token = link.removeprefix(f"{settings.PUBLIC_BASE_URL}/c/").removesuffix("/preferences/")
    assert links.customer_from(token, "preferences") == customer
    assert Client().get(link.removeprefix(settings.PUBLIC_BASE_URL)).status_code == 200
