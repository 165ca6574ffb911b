import pytest

from conversations import journal
from conversations.identities import merge_customers, resolve_customer
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def say(customer, n):
    return journal.record(
        customer=customer, channel="sms", kind="message", direction="in", body=f"message {n}"
    )


def test_it_pages_through_the_timeline_by_seq(api):
    customer = CustomerFactory()
    for n in range(1, 8):
        say(customer, n)
    url = f"/api/v1/customers/{customer.pk}/timeline"

    first = api.get(url, limit=3).json()
    second = api.get(url, after=first["next_after"], limit=3).json()
    last = api.get(url, after=second["next_after"], limit=3).json()

    assert [e["seq"] for e in first["events"]] == [1, 2, 3]
    assert first["has_more"] and first["next"].endswith(f"{url}?after=3&limit=3")
    assert [e["body"] for e in second["events"]] == ["message 4", "message 5", "message 6"]
    assert [e["seq"] for e in last["events"]] == [7]
    assert last["has_more"] is False and last["next_after"] is None and last["next"] is None
    assert first["last_seq"] == 7
    assert first["events"][0]["channel"] == "sms" and first["events"][0]["direction"] == "in"


def test_the_newest_page_is_after_last_seq_minus_limit(api):
    customer = CustomerFactory()
    for n in range(1, 6):
        say(customer, n)

    page = api.get(f"/api/v1/customers/{customer.pk}/timeline", after=5 - 2, limit=2).json()

    assert [e["seq"] for e in page["events"]] == [4, 5] and not page["has_more"]


def test_customers_are_named_by_id_or_by_identity(api):
    customer = resolve_customer("external", "shop-42")
    IdentityFactory(customer=customer, kind="email", value="ana@example.com")
    IdentityFactory(customer=customer, kind="phone", value="+14155550132")
    say(customer, 1)

    for ref in ("external:shop-42", "email:ANA@example.com", "phone:%2B14155550132"):
        page = api.get(f"/api/v1/customers/{ref}/timeline").json()
        assert page["customer"] == customer.pk and len(page["events"]) == 1


def test_a_merged_customers_id_reads_the_survivors_timeline(api):
    older, newer = CustomerFactory(), CustomerFactory()
    say(newer, 1)
    merge_customers(older, newer)

    page = api.get(f"/api/v1/customers/{newer.pk}/timeline").json()

    assert page["customer"] == older.pk
    assert [e["kind"] for e in page["events"]] == ["message", "merge"]


@pytest.mark.parametrize("ref", ["999999", "external:nobody", "nickname:ana", "email:"])
def test_an_unknown_customer_is_404(api, ref):
    response = api.get(f"/api/v1/customers/{ref}/timeline")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("param", "value"), [("after", "-1"), ("limit", "0"), ("limit", "501"),
                                              ("after", "x")])  # fmt: skip
def test_bad_paging_parameters_are_400(api, param, value):
    customer = CustomerFactory()

    response = api.get(f"/api/v1/customers/{customer.pk}/timeline", **{param: value})

    assert response.status_code == 400 and response.json()["error"]["field"] == param


def test_it_needs_a_key(api):
    customer = CustomerFactory()

    assert api.get(f"/api/v1/customers/{customer.pk}/timeline", key="").status_code == 401


def test_a_page_costs_the_same_queries_whatever_its_size(api, django_assert_num_queries):
    customer = CustomerFactory()
    for n in range(1, 40):
        say(customer, n)
    url = f"/api/v1/customers/{customer.pk}/timeline"

    # the key, the customer with its conversation, the page
    with django_assert_num_queries(3):
        api.get(url, limit=2)
    with django_assert_num_queries(3):
        api.get(url, limit=30)
