"""Message templates: the customer context, plain text, and nothing beyond the context."""

import pytest
from django import forms

from engagement import templating
from engagement.admin import RuleStepForm
from tests.engagement.conftest import shopper

pytestmark = pytest.mark.django_db


def test_a_template_reads_the_customer_context(clock, fill_cart):
    customer = shopper()
    fill_cart(customer)

    context = templating.message_context(customer)
    text = templating.render(
        "Hi {{ first_name }}! Your {{ product }} ({{ cart_value }}, {{ cart.item_count }} item)"
        " & more: {{ links.callback }}",
        context,
    )

    assert text.startswith("Hi Dana! Your T900 treadmill ($1,999.00, 1 item) & more: https://")
    assert "&amp;" not in text  # plain text for SMS: no HTML escaping


@pytest.mark.parametrize(
    "template",
    [
        "{% debug %}",
        "{% load static %}{% static 'x' %}",
        "{% include 'admin/base.html' %}",
        "{% extends 'admin/base.html' %}",
        "{% url 'admin:index' %}",
        "{% csrf_token %}",
    ],
)
def test_tags_that_reach_beyond_the_context_do_not_exist(template):
    with pytest.raises(templating.TemplateSyntaxError):
        templating.check(template)


def test_a_template_cannot_reach_private_attributes_or_change_the_context():
    context = {"cart": {"items": [{"name": "T900"}]}, "first_name": "Dana"}

    with pytest.raises(templating.TemplateSyntaxError):
        templating.render("{{ first_name.__class__ }}", context)
    text = templating.render("{{ cart.clear }}{{ cart.items.0.name }}", context)

    assert text == "T900"  # nothing to clear: the template sees read-only data
    assert context["cart"]["items"] == [{"name": "T900"}]


def test_the_admin_refuses_a_template_that_does_not_compile():
    form = RuleStepForm(data={"number": 1, "delay_minutes": 60, "template": "{% debug %}"})

    assert not form.is_valid()
    assert "does not compile" in form.errors["template"][0]
    assert isinstance(form, forms.ModelForm)
