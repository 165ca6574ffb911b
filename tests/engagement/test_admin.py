"""The rules in the admin: all listed with their defaults, steps edited inline."""

import pytest

from engagement.models import RuleConfig

pytestmark = pytest.mark.django_db


def test_the_rule_list_shows_every_rule_with_its_defaults(admin_client):
    response = admin_client.get("/admin/engagement/ruleconfig/")

    assert response.status_code == 200
    assert set(RuleConfig.objects.values_list("slug", flat=True)) == {
        "cart_abandoned", "evaluation_left", "missed_call", "after_hours", "post_purchase"
    }  # fmt: skip
    cart = RuleConfig.objects.get(slug="cart_abandoned")
    assert [s.delay_minutes for s in cart.steps.all()] == [60, 24 * 60]


def test_a_step_is_edited_and_a_broken_template_refused(admin_client):
    admin_client.get("/admin/engagement/ruleconfig/")
    rule = RuleConfig.objects.get(slug="missed_call")
    step = rule.steps.get()
    url = f"/admin/engagement/ruleconfig/{rule.pk}/change/"
    form = {
        "enabled": "on",
        "priority": "50",
        "channels": "sms, web",
        "min_value": "",
        "params": "{}",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "1",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-id": str(step.pk),
        "steps-0-rule": str(rule.pk),
        "steps-0-number": "1",
        "steps-0-delay_minutes": "0",
        "steps-0-template": "{% debug %}",
    }

    refused = admin_client.post(url, form)
    form["steps-0-template"] = "Sorry we missed you. {{ links.callback }}"
    form["channels"] = "voice"
    voice = admin_client.post(url, form)
    form["channels"] = "web,sms"
    saved = admin_client.post(url, form)

    assert refused.status_code == 200 and b"does not compile" in refused.content
    assert voice.status_code == 200 and b"Use one or more of: sms, whatsapp, web" in voice.content
    assert saved.status_code == 302
    rule.refresh_from_db()
    assert rule.channels == "web,sms"
    assert rule.steps.get().template == "Sorry we missed you. {{ links.callback }}"


def test_nudges_are_read_only(admin_client):
    assert admin_client.get("/admin/engagement/nudge/").status_code == 200
    assert admin_client.get("/admin/engagement/nudge/add/").status_code == 403
