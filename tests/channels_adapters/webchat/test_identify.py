"""Throughline.identify: a valid hash or JWT links and merges; anything else links nothing."""

import time

import jwt
import pytest
from django.test import Client

from channels_adapters.webchat import inbound
from channels_adapters.webchat.identify import user_hash
from conversations import journal
from conversations.identities import resolve_customer
from conversations.models import Customer, Identity
from conversations.visitors import read_visitor_token

from .conftest import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def known_shopper():
    """A signed-in shopper of the shop, with an earlier conversation by SMS."""
    customer = resolve_customer("external", "shopper-42")
    journal.record(
        customer=customer, channel="sms", kind="message", direction="in", body="Order #1001?"
    )
    return customer


@pytest.fixture
def visitor_token(site):
    token = post(Client(), "/widget/session", {"site": site.public_key}).json()["token"]
    inbound.receive_message(visitor_id=read_visitor_token(token), client_id="c-1", body="Hi")
    return token


def identify(site, token, **claims):
    return post(Client(), "/widget/identify", {"site": site.public_key, "token": token, **claims})


def signed(site, *, lifetime=300, secret=None, **claims):
    payload = {"exp": int(time.time()) + lifetime, **claims} if lifetime is not None else claims
    return jwt.encode(payload, secret or site.secret, algorithm="HS256")


def visitor_owner(token) -> Customer:
    return inbound.visitor_customer(read_visitor_token(token))


def test_a_valid_hash_links_the_visitor_and_merges_the_histories(
    site, known_shopper, visitor_token
):
    response = identify(
        site, visitor_token, userId="shopper-42", hash=user_hash(site.secret, "shopper-42")
    )

    data = response.json()
    assert response.status_code == 200
    assert visitor_owner(visitor_token).pk == known_shopper.pk
    assert [m["body"] for m in data["messages"]] == ["Order #1001?", "Hi"]
    assert data["reset"] is True


@pytest.mark.parametrize(
    "claims",
    [
        {"userId": "shopper-42", "hash": "0" * 64},
        {"userId": "shopper-43", "hash": "HASH-OF-42"},
        {"hash": "HASH-OF-42"},  # no user id
        {"userId": "shopper-42"},  # no proof at all
        {"userId": "shopper-42", "email": "someone@example.com"},
    ],
)
def test_an_invalid_hash_links_and_merges_nothing(site, known_shopper, visitor_token, claims):
    if claims.get("hash") == "HASH-OF-42":
        claims["hash"] = user_hash(site.secret, "shopper-42")
    identities_before = Identity.objects.count()

    response = identify(site, visitor_token, **claims)

    assert response.status_code == 422
    assert response.json()["error"]
    assert visitor_owner(visitor_token).pk != known_shopper.pk
    assert Identity.objects.count() == identities_before
    assert not Customer.objects.exclude(merged_into=None).exists()


def test_a_hash_is_refused_where_the_site_did_not_enable_it(site, known_shopper, visitor_token):
    site.identify_hash_enabled = False
    site.save()

    response = identify(
        site, visitor_token, userId="shopper-42", hash=user_hash(site.secret, "shopper-42")
    )

    assert response.status_code == 422
    assert "jwt" in response.json()["error"]
    assert visitor_owner(visitor_token).pk != known_shopper.pk


def test_a_valid_jwt_links_every_claim_it_signs(site, known_shopper, visitor_token):
    site.identify_hash_enabled = False  # JWT needs no switch
    site.save()
    token = signed(site, sub="shopper-42", email="Dana@Example.com")

    response = identify(site, visitor_token, jwt=token, phone="+14155550199")

    owner = visitor_owner(visitor_token)
    assert response.status_code == 200
    assert owner.pk == known_shopper.pk
    assert set(owner.identities.values_list("kind", "value")) >= {
        ("external", "shopper-42"),
        ("email", "dana@example.com"),
    }
    # the phone next to the JWT was not signed: never linked
    assert not Identity.objects.filter(kind="phone").exists()
    assert all(i.verified_at for i in owner.identities.exclude(kind__in=["visitor", "external"]))


@pytest.mark.parametrize(
    ("make_token", "says"),
    [
        (lambda site: signed(site, lifetime=-120, sub="shopper-42"), "expired"),
        (lambda site: signed(site, lifetime=None, sub="shopper-42"), "exp"),
        (
            lambda site: signed(
                site, secret="not-the-secret-of-this-site-but-long-enough", sub="shopper-42"
            ),
            "not valid",
        ),
        (lambda site: signed(site, lifetime=3 * 86400, sub="shopper-42"), "too long"),
        (lambda site: signed(site), "names nobody"),
        (lambda site: "not.a.jwt", "not valid"),
        (
            lambda site: jwt.encode(
                {"sub": "shopper-42", "exp": int(time.time()) + 60}, None, algorithm="none"
            ),
            "not valid",
        ),
    ],
)
def test_an_invalid_jwt_links_nothing_and_says_why(
    site, known_shopper, visitor_token, make_token, says
):
    response = identify(site, visitor_token, jwt=make_token(site))

    assert response.status_code == 422
    assert says in response.json()["error"]
    assert visitor_owner(visitor_token).pk != known_shopper.pk
    assert not Customer.objects.exclude(merged_into=None).exists()


def test_the_jwt_name_claim_names_the_customer(site, visitor_token):
    response = identify(
        site, visitor_token, jwt=signed(site, sub="shopper-77", name="Dana Whitfield")
    )

    assert response.status_code == 200
    customer = visitor_owner(visitor_token)
    assert (customer.display_name, customer.name_source) == ("Dana Whitfield", "identify")
