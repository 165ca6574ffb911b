"""Export and erasure in the admin: managers only."""

import json

import pytest
from django.urls import reverse

from privacy.models import Erasure

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:privacy_customerrecord_changelist"


def test_agents_without_the_permissions_cannot_reach_export_or_erasure(client, agent, history):
    client.force_login(agent)
    assert client.get(reverse(CHANGELIST)).status_code == 403
    response = client.post(
        reverse(CHANGELIST),
        {"action": "erase", "_selected_action": [history.customer.pk], "confirm": "yes"},
    )
    assert response.status_code == 403
    assert not Erasure.objects.exists()


def test_a_manager_exports_one_json_document(client, manager, history):
    client.force_login(manager)
    response = client.post(
        reverse(CHANGELIST), {"action": "export", "_selected_action": [history.customer.pk]}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert len(json.loads(response.content)["timeline"]) == history.events


def test_a_manager_erases_after_confirming(client, manager, history):
    client.force_login(manager)
    ask = client.post(
        reverse(CHANGELIST), {"action": "erase", "_selected_action": [history.customer.pk]}
    )
    assert b"cannot be undone" in ask.content
    assert not Erasure.objects.exists()
    done = client.post(
        reverse(CHANGELIST),
        {"action": "erase", "_selected_action": [history.customer.pk], "confirm": "yes"},
        follow=True,
    )
    assert f"Customer #{history.customer.pk} erased".encode() in done.content
    assert Erasure.objects.get().erased_by == manager
