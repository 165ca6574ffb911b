"""Routing's configuration in the admin: the pages open, and a saved rule applies at once."""

import pytest

from routing import rules
from routing.models import ContextualAction, HotRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", password="pw-boss")
    client.force_login(boss)
    return client


@pytest.mark.parametrize(
    "model", ["intentrule", "hotrule", "contextualaction", "scheduledcallback"]
)
def test_the_pages_open(admin_client_, model):
    assert admin_client_.get(f"/admin/routing/{model}/").status_code == 200
    assert admin_client_.get(f"/admin/routing/{model}/add/").status_code == 200


def test_a_rule_saved_in_the_admin_applies_at_once(admin_client_, settings):
    settings.ROUTING_RULES_CACHE_SECONDS = 600
    assert rules.current().hot == []

    response = admin_client_.post(
        "/admin/routing/hotrule/add/",
        {"name": "Escalation", "keywords": "refund\nmoney back", "pattern": "", "active": "on"},
    )

    assert response.status_code == 302
    assert rules.hot_from_text("refund please", rules.current())
    # typed one per line, stored as the list the rules read
    assert HotRule.objects.get().keywords == ["refund", "money back"]
    page = admin_client_.get(f"/admin/routing/hotrule/{HotRule.objects.get().pk}/change/")
    assert "refund\nmoney back</textarea>" in page.content.decode()


def test_a_bad_condition_or_pattern_is_refused(admin_client_):
    bad_condition = admin_client_.post(
        "/admin/routing/contextualaction/add/",
        {
            "name": "x",
            "condition": '{"frustration.missed_calls": {"above": 2}}',
            "presence": "web",
            "action": "offer_call",
            "message": "Hi",
            "cooldown": "1 00:00:00",
            "priority": "50",
        },
    )
    bad_pattern = admin_client_.post(
        "/admin/routing/hotrule/add/", {"name": "x", "keywords": "[]", "pattern": "(unclosed"}
    )

    assert bad_condition.status_code == 200 and "unknown test" in bad_condition.content.decode()
    assert (
        bad_pattern.status_code == 200
        and "Not a regular expression" in bad_pattern.content.decode()
    )
    assert not ContextualAction.objects.exists() and not HotRule.objects.exists()
