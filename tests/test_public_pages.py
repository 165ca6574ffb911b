"""The public pages a person reaches without an account, fed whatever a sender may write.

Invariants, as for every public endpoint: no 5xx, whatever the input; a refused request
(4xx) writes nothing. The API and the Twilio webhooks have their own property tests
(tests/api/, tests/channels_adapters/); these cover the customer's signed pages and the
in-store label pages.
"""

import json
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import links
from conversations.identities import resolve_customer
from tests.instore.factories import PlacementFactory
from tests.rows import row_counts

pytestmark = pytest.mark.django_db

# Text as senders write it: any code point (NUL and lone surrogates included), odd digits.
ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "²", "³", "--5", "1e30", "\x00", "\ud800", "0001-01-01T00:00:00+14:00"]),
)
FORMS = st.dictionaries(st.text(max_size=20), ANY_TEXT, max_size=6)
FUZZ = settings(
    max_examples=60,
    deadline=None,  # a shared, loaded machine: no wall-clock verdicts
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(response, before):
    assert response.status_code < 500, response.content[:300]
    if 400 <= response.status_code < 500:
        assert row_counts() == before


@pytest.fixture
def customer():
    return resolve_customer("phone", "+14155550132")


def quoted(text: str) -> str:
    """Percent-encoded UTF-8, a lone surrogate as the invalid bytes a sender could send."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def form_body(form: dict) -> str:
    return "&".join(f"{quoted(name)}={quoted(value)}" for name, value in form.items())


def _post(url, form):
    return Client(raise_request_exception=False).post(
        url, form_body(form), content_type="application/x-www-form-urlencoded"
    )


@FUZZ
@given(form=FORMS, page=st.sampled_from(["preferences", "callback"]))
def test_the_customers_pages_take_any_form(customer, form, page):
    before = row_counts()
    check(_post(f"/c/{links.token_for(customer, page)}/{page}/", form), before)


@FUZZ
@given(token=ANY_TEXT, page=st.sampled_from(["preferences", "callback"]))
def test_any_token_is_a_readable_refusal(token, page):
    before = row_counts()
    url = f"/c/{quoted(token) or 'x'}/{page}/"
    check(Client(raise_request_exception=False).get(url), before)
    check(_post(url, {"slot": token}), before)


@pytest.mark.long
@FUZZ
@given(code=ANY_TEXT, form=FORMS)
def test_the_label_pages_take_any_code_and_form(code, form):
    placement = PlacementFactory()
    client = Client(raise_request_exception=False)
    for path in (f"/s/{placement.code}/", f"/s/{quoted(code) or 'x'}/"):
        body = json.dumps(form).encode()  # \ud800 escapes and all, as JSON allows
        for send in (
            lambda path=path: client.get(f"{path}?{form_body(form)}"),
            lambda path=path: _post(path + "scan", form),
            lambda path=path, body=body: client.post(
                path + "scan", body, content_type="application/json"
            ),
        ):
            before = row_counts()
            check(send(), before)
