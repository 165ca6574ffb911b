from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import journal
from conversations.identities import link_identity, merge_customers, resolve_customer
from conversations.models import Case, Conversation, Customer, Event, Identity
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now() - timedelta(days=3)


def at(customer, minutes, body, **kwargs):
    fields = {"channel": "web", "kind": "message", "direction": "in"} | kwargs
    return journal.record(
        customer=customer, body=body, occurred_at=T0 + timedelta(minutes=minutes), **fields
    )


def timeline(customer):
    conversation = Conversation.objects.get(customer=customer)
    return list(conversation.events.order_by("seq").values_list("seq", "body"))


def test_merging_interleaved_histories_loses_nothing_and_keeps_occurred_at_order():
    # given two customers whose histories interleave in time
    web, phone = CustomerFactory(), CustomerFactory()
    for minute in (0, 20, 40):
        at(web, minute, f"web {minute}")
    for minute in (10, 30, 50):
        at(phone, minute, f"sms {minute}", channel="sms", source_id=f"SM{minute}")
    IdentityFactory(customer=web, kind="visitor", value="v-1")
    IdentityFactory(customer=phone, kind="phone", value="+14155550132")

    # when
    survivor = merge_customers(phone, web)

    # then
    assert survivor == web  # the older customer survives, whichever order they are passed in
    bodies = [body for _, body in timeline(web)]
    assert bodies[:6] == ["web 0", "sms 10", "web 20", "sms 30", "web 40", "sms 50"]
    assert [seq for seq, _ in timeline(web)] == list(range(1, 8))
    merge = Event.objects.get(kind="merge")
    assert merge.seq == 7 and merge.data["events_moved"] == 3
    assert set(Identity.objects.values_list("customer", flat=True)) == {web.pk}
    phone.refresh_from_db()
    assert phone.merged_into == web
    assert Conversation.objects.get(customer=phone).status == Conversation.Status.MERGED
    assert Conversation.objects.get(customer=web).last_seq == 7
    # source ids still deduplicate after the move
    assert at(web, 10, "retry", channel="sms", source_id="SM10").body == "sms 10"


def test_merging_is_idempotent_and_symmetric():
    a, b = CustomerFactory(), CustomerFactory()
    at(a, 0, "a")
    at(b, 1, "b")

    first = merge_customers(a, b)
    again = merge_customers(a, b)
    reversed_ = merge_customers(b, a)

    assert first == again == reversed_ == a
    assert Event.objects.filter(kind="merge").count() == 1
    assert Event.objects.count() == 3


def test_two_open_cases_become_one():
    a, b = CustomerFactory(), CustomerFactory()
    at(a, 0, "question on the web")
    at(b, 5, "question by sms", channel="sms")

    merge_customers(a, b)

    conversation = Conversation.objects.get(customer=a)
    open_cases = Case.objects.exclude(status=Case.Status.RESOLVED)
    assert list(open_cases) == [conversation.current_case]
    folded = Case.objects.get(status=Case.Status.RESOLVED)
    assert folded.resolution == "merged" and folded.conversation == conversation
    assert conversation.unread_count == 2


def test_the_survivor_keeps_the_merged_customers_traits_it_lacked():
    a = CustomerFactory(display_name="", traits={"tier": "gold"})
    b = CustomerFactory(display_name="Dana", traits={"tier": "silver", "persona": "runner"})

    merge_customers(a, b)

    a.refresh_from_db()
    assert a.display_name == "Dana"
    assert a.traits == {"tier": "gold", "persona": "runner"}


def test_linking_an_identity_of_another_customer_merges_them():
    visitor = resolve_customer("visitor", "v-42")
    at(visitor, 0, "chat question")
    texter = resolve_customer("phone", "+14155550132")
    at(texter, 5, "sms question", channel="sms")

    survivor = link_identity(texter, "visitor", "v-42", verified=True)

    assert survivor == visitor
    assert Customer.objects.filter(merged_into=None).count() == 1
    assert [body for _, body in timeline(visitor)][:2] == ["chat question", "sms question"]


def test_linking_a_new_identity_attaches_it_and_leaves_a_trace():
    customer = resolve_customer("visitor", "v-42")

    assert link_identity(customer, "email", "Dana@Example.com", verified=True) == customer

    identity = Identity.objects.get(kind="email")
    assert identity.value == "dana@example.com" and identity.verified_at is not None
    assert Event.objects.get().kind == "identity"


def test_a_merge_hook_sees_both_customers(settings):
    calls = []
    settings.THROUGHLINE_MERGE_HOOKS = ["tests.conversations.test_merge_customers.remember_merge"]
    remember_merge.calls = calls
    a, b = CustomerFactory(), CustomerFactory()

    merge_customers(a, b)

    assert calls == [(a.pk, b.pk)]


def remember_merge(*, survivor, merged):
    remember_merge.calls.append((survivor.pk, merged.pk))


@pytest.mark.django_db(transaction=True)
def test_concurrent_merges_and_writes_merge_once_and_keep_seq_gap_free(concurrently):
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for n in range(5):
        at(a, n * 3, f"a{n}")
        at(b, n * 3 + 1, f"b{n}")
        at(c, n * 3 + 2, f"c{n}")

    def job(kind, x, y):
        if kind == "merge":
            return merge_customers(x, y).pk
        journal.record(customer=x, channel="web", kind="message", direction="in", body="during")
        return None

    results = concurrently(
        job,
        [
            ("merge", a, b),
            ("merge", b, a),
            ("merge", c, b),
            ("merge", b, c),
            ("write", b, None),
            ("write", c, None),
        ],
    )

    # each merge answers the survivor of its moment: b survives c if that merge ran first
    assert {r for r in results if r is not None} <= {a.pk, b.pk}
    assert Customer.objects.filter(merged_into=None).get() == a
    events = Event.objects.filter(conversation__customer=a).order_by("seq")
    assert list(events.values_list("seq", flat=True)) == list(range(1, events.count() + 1))
    assert events.filter(kind="merge").count() == 2
    assert events.filter(body="during").count() == 2
    assert events.filter(kind="message").count() == 17
    assert Event.objects.exclude(conversation__customer=a).count() == 0


def test_linking_a_known_identity_with_proof_marks_it_verified():
    texter = resolve_customer("phone", "+14155550132")  # texted us: known, not proved
    visitor = resolve_customer("visitor", "v-7")

    link_identity(visitor, "phone", "+14155550132", verified=True)

    phone = Identity.objects.get(kind="phone")
    assert phone.verified_at is not None
    assert phone.customer == texter  # the older customer survives the merge
