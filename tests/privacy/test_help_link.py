"""The HELP reply carries the link to the preference page."""

import pytest

from channels_adapters.sms.keywords import help_reply
from conversations.identities import resolve_customer
from conversations.links import customer_from

pytestmark = pytest.mark.django_db


def test_the_help_reply_links_to_the_customers_preferences(settings):
    customer = resolve_customer("phone", "+14155550123")
    reply = help_reply(customer)
    assert reply.startswith(settings.SMS_HELP_TEXT)
    url = reply.rsplit(" ", 1)[1]
    token = url.split("/c/", 1)[1].split("/")[0]
    assert url.endswith("/preferences/")
    assert customer_from(token, "preferences") == customer


def test_no_help_text_no_reply(settings):
    settings.SMS_HELP_TEXT = ""
    assert help_reply(resolve_customer("phone", "+14155550123")) == ""
