"""Roles and permissions: pages, actions and the socket (login protection:
test_login_protection.py)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from conversations import journal
from conversations.identities import resolve_customer
from conversations.models import Event
from tests.conftest import in_group
from tests.console.test_agent_socket import connect

PHONE = "+14155550132"


@pytest.fixture
def staff_only(django_user_model):
    """Staff, but in neither console group: no permission at all."""
    return django_user_model.objects.create_user("dave", password="pw-dave", is_staff=True)


@pytest.fixture
def reader(django_user_model):
    """Staff who may read the console and nothing more."""
    user = django_user_model.objects.create_user("erin", password="pw-erin", is_staff=True)
    group = Group.objects.create(name="Readers")
    group.permissions.add(
        Permission.objects.get(
            codename="view_conversation", content_type__app_label="conversations"
        )
    )
    user.groups.add(group)
    return user


def conversation():
    customer = resolve_customer("phone", PHONE)
    journal.record(customer=customer, channel="sms", kind="message", direction="in", body="Hi")
    return customer.conversation


def urls(pk):
    def action(name):
        return reverse(f"admin:conversations_{name}", args=[pk])

    return {
        "inbox": ("get", reverse("admin:conversations_inbox")),
        "page": ("get", reverse("admin:conversations_conversation_change", args=[pk])),
        "merge": ("get", action("merge")),
        "reply": ("post", action("reply")),
        "note": ("post", action("note")),
        "assign": ("post", action("assign")),
        "resolve": ("post", action("resolve")),
        "snooze": ("post", action("snooze")),
        "call_back": ("post", action("call_back")),
    }


@pytest.mark.django_db
def test_staff_without_the_permission_get_403_everywhere(client, staff_only):
    client.force_login(staff_only)
    pk = conversation().pk

    for name, (method, url) in urls(pk).items():
        response = getattr(client, method)(url, {"body": "x", "channel": "sms", "until": "1h"})
        assert response.status_code == 403, name
    assert not Event.objects.filter(direction__in=["out"]).exists()
    assert client.get(reverse("admin:conversations_case_changelist")).status_code == 403


@pytest.mark.django_db
def test_non_staff_are_sent_to_the_login_page(client, outsider):
    client.force_login(outsider)
    pk = conversation().pk

    for name, (method, url) in urls(pk).items():
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response.url, name


@pytest.mark.django_db
def test_a_reader_sees_the_console_but_may_not_act(client, reader):
    client.force_login(reader)
    convo = conversation()
    routes = urls(convo.pk)

    assert client.get(routes["inbox"][1]).status_code == 200
    page = client.get(routes["page"][1])
    assert page.status_code == 200 and 'id="reply-form"' not in page.content.decode()
    for name in ["reply", "note", "assign", "resolve", "snooze", "merge"]:
        method, url = routes[name]
        assert getattr(client, method)(url, {"body": "x", "channel": "sms"}).status_code == 403
    assert Event.objects.filter(conversation=convo).count() == 1


@pytest.mark.django_db
def test_agents_use_canned_responses_and_managers_write_them(client, agent, django_user_model):
    manager = in_group(
        django_user_model.objects.create_user("mia", password="pw-mia", is_staff=True), "Managers"
    )
    add = reverse("admin:conversations_cannedresponse_add")

    client.force_login(agent)
    assert client.get(add).status_code == 403
    client.force_login(manager)
    assert client.get(add).status_code == 200
    assert client.get(reverse("admin:conversations_team_add")).status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_the_socket_turns_away_staff_without_the_permission(staff_only, agent):
    communicator, connected, code = await connect(staff_only)
    assert not connected and code == 4403
    await communicator.disconnect()

    communicator, connected, _ = await connect(agent)
    assert connected
    await communicator.disconnect()


@pytest.mark.django_db
def test_an_admin_edits_an_agent_and_their_profile_on_one_page(client, agent, django_user_model):
    manager = django_user_model.objects.create_superuser("root", password="pw-root")
    client.force_login(manager)

    response = client.get(reverse("admin:auth_user_change", args=[agent.pk]))

    assert response.status_code == 200
    assert "agent_profile-0-phone" in response.content.decode()


@pytest.mark.django_db
def test_managers_see_insights_and_may_export_and_erase_and_agents_may_not(
    agent, django_user_model
):
    manager = in_group(django_user_model.objects.create_user("carol", is_staff=True), "Managers")

    for permission in [
        "insights.view_insights",
        "privacy.export_customer",
        "privacy.erase_customer",
    ]:
        assert django_user_model.objects.get(pk=manager.pk).has_perm(permission)
        assert not django_user_model.objects.get(pk=agent.pk).has_perm(permission)
