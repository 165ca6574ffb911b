import pytest
from django.core import signing

from conversations.visitors import (
    InvalidVisitorToken,
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
)
def test_a_forged_or_altered_token_is_refused(token):
    with pytest.raises(InvalidVisitorToken):
        read_visitor_token(token)
