"""The console's "Split…" on a merge line, and the possible duplicates page."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from conversations import duplicates, journal
from conversations.identities import merge_customers
from conversations.models import Customer, Event, Merge, PossibleDuplicate
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(django_user_model):
    """An agent who may read conversations but not merge or split customers."""
    user = django_user_model.objects.create_user("dora", password="pw-dora", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    return user


def merged_pair():
    older, newer = CustomerFactory(), CustomerFactory()
    IdentityFactory(customer=newer, kind="email", value="newer@example.com")
    journal.record(customer=newer, channel="web", kind="message", direction="in", body="hi")
    merge_customers(older, newer)
    return older, newer, Merge.objects.get()


def split_url(merge):
    return reverse("console_split", args=[merge.merge_event_id])


def test_the_timeline_offers_split_on_a_merge_line(client, agent):
    client.force_login(agent)
    older, _newer, merge = merged_pair()

    page = client.get(reverse("admin:conversations_conversation_change", args=[older.pk]))

    # The page's script puts "Split…" on the merge line: it needs the link's pattern and
    # the merge line's event id (tests/browser/test_split.py clicks it).
    text = page.content.decode()
    assert f'data-split-url="{reverse("console_split", args=[0])}"' in text
    merge_lines = [e for e in page.context["events_json"] if e["kind"] == "merge"]
    assert [e["id"] for e in merge_lines] == [merge.merge_event_id]


def test_the_preview_says_what_returns_where_and_the_split_records_who(client, agent):
    client.force_login(agent)
    older, newer, merge = merged_pair()
    since = journal.record(
        customer=older, channel="web", kind="message", direction="in", body="after it"
    )

    preview = client.get(split_url(merge))

    assert preview.status_code == 200
    text = preview.content.decode()
    assert "newer@example.com" in text and "after it" in text
    assert preview.context["preview"]["events"] == 1

    response = client.post(split_url(merge), {"move": [str(since.pk)]})

    assert response.status_code == 302
    merge.refresh_from_db()
    assert merge.unmerged_by == "console:alice"
    assert Customer.objects.get(pk=newer.pk).merged_into_id is None
    assert Event.objects.get(pk=since.pk).conversation.customer_id == newer.pk
    again = client.get(split_url(merge))
    assert "was split" in again.content.decode()


def test_splitting_needs_the_merge_permission(client, reader):
    client.force_login(reader)
    _older, newer, merge = merged_pair()

    assert client.get(split_url(merge)).status_code == 403
    assert client.post(split_url(merge)).status_code == 403
    assert Customer.objects.get(pk=newer.pk).merged_into_id is not None


def test_a_malformed_split_is_a_400_and_changes_nothing(client, agent):
    client.force_login(agent)
    _older, newer, merge = merged_pair()

    response = client.post(split_url(merge), {"move": ["12x"]})

    assert response.status_code == 400
    assert Customer.objects.get(pk=newer.pk).merged_into_id is not None


def queued_pair():
    known = CustomerFactory(display_name="Sam Known")
    IdentityFactory(customer=known, kind="email", value="sam@example.com")
    visitor = CustomerFactory(display_name="Visitor")
    event = journal.record(
        customer=visitor, channel="web", kind="message", direction="in", body="sam@example.com"
    )
    duplicates.on_event(event)
    return known, visitor, PossibleDuplicate.objects.get()


def test_the_queue_lists_pairs_with_their_evidence_and_dismisses_for_good(client, agent):
    client.force_login(agent)
    _known, _visitor, pair = queued_pair()
    url = reverse("console_possible_duplicates")

    page = client.get(url)
    assert "Sam Known" in page.content.decode()
    assert duplicates.EMAIL_IN_CASE in page.content.decode()

    client.post(url, {"pair": str(pair.pk), "decision": "dismiss"})

    pair.refresh_from_db()
    assert pair.status == "dismissed" and pair.decided_by == "console:alice"
    assert "Sam Known" not in client.get(url).content.decode()


def test_confirming_in_the_queue_merges(client, agent, reader):
    known, visitor, pair = queued_pair()
    url = reverse("console_possible_duplicates")
    client.force_login(reader)
    assert client.post(url, {"pair": str(pair.pk), "decision": "confirm"}).status_code == 403
    client.force_login(agent)
    assert client.post(url, {"pair": str(pair.pk), "decision": "maybe"}).status_code == 400

    client.post(url, {"pair": str(pair.pk), "decision": "confirm"})

    assert Customer.objects.get(pk=visitor.pk).merged_into_id == known.pk
    assert Merge.objects.get().reason == "possible duplicate confirmed by console:alice"
