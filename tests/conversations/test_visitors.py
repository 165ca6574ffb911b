import pytest
from django.core import signing

from conversations.models import Customer
from conversations.visitors import (
    InvalidVisitorToken,
    become_customer,
    customer_of,
    issue_visitor_token,
    new_visitor_id,
    read_visitor_token,
)


def test_a_token_gives_back_its_visitor_id():
    visitor_id = new_visitor_id()

    assert read_visitor_token(issue_visitor_token(visitor_id)) == visitor_id


def test_visitor_ids_are_unguessable():
    assert len({new_visitor_id() for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        issue_visitor_token("v_abc")[:-2] + "xx",  # altered signature
        signing.dumps({"v": "v_abc"}, salt="another.salt"),  # signed for something else
        signing.dumps({"x": 1}, salt="throughline.visitor"),  # well signed, no visitor
    ],
    # Fixed ids: a signed token carries the time, and parallel workers must collect the
    # same test names.
    ids=["empty", "garbage", "altered-signature", "other-salt", "no-visitor"],
)
def test_a_forged_or_altered_token_is_refused(token):
    with pytest.raises(InvalidVisitorToken):
        read_visitor_token(token)


hook_calls: list[tuple[int, str]] = []


def remember_visitor(*, customer, visitor_id):
    """A THROUGHLINE_VISITOR_HOOKS entry for the tests below."""
    hook_calls.append((customer.pk, visitor_id))


@pytest.mark.django_db
def test_an_anonymous_visitor_is_looked_up_without_writing(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert customer_of("v_nobody") is None

    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_becoming_a_customer_runs_the_visitor_hooks_once(settings):
    settings.THROUGHLINE_VISITOR_HOOKS = [f"{__name__}.remember_visitor"]
    hook_calls.clear()

    customer = become_customer("v_new")
    again = become_customer("v_new")

    assert again == customer == customer_of("v_new")
    assert hook_calls == [(customer.pk, "v_new")]
    assert customer.identities.get().value == "v_new"
