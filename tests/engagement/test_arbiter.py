"""The arbiter: every reason suppresses (or postpones) and is recorded; one voice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Case, Event, Identity, Outbox
from engagement import arbiter
from tests.engagement.conftest import decision_events, nudges, shopper

pytestmark = pytest.mark.django_db


def propose(customer, key="k1", *, rule="cart_abandoned", topic="cart_reminders", **kwargs):
    kwargs.setdefault("body", "Still thinking about the T900?")
    return arbiter.propose(customer, rule=rule, step=1, dedupe_key=key, topic=topic, **kwargs)


def test_a_due_proposal_is_sent_by_sms_through_the_outbox_and_recorded(clock, dana):
    nudge = propose(dana)

    assert nudge.status == "sent" and nudge.channel == "sms" and nudge.decided_at
    message = nudge.message
    assert (message.kind, message.direction, message.channel) == ("message", "out", "sms")
    assert message.data["nudge"] == nudge.pk
    assert nudge.outbox.status == "pending"  # delivered after commit by a worker
    (recorded,) = decision_events(dana)
    assert recorded.data == {
        "nudge": nudge.pk, "rule": "cart_abandoned", "step": 1, "topic": "cart_reminders",
        "status": "sent", "sent": True, "channel": "sms", "reason": "",
        "jurisdictions": ["US"], "zone": "America/Los_Angeles",  # the rules it went under
    }  # fmt: skip


def test_without_a_phone_the_widget_gets_it(clock):
    visitor = shopper(phone="", visitor=True)

    nudge = propose(visitor)

    assert nudge.status == "sent" and nudge.channel == "web"
    assert nudge.message.channel == "web" and nudge.message.body == nudge.body
    assert not Outbox.objects.exists()


def test_a_number_that_said_stop_is_never_texted(clock, dana):
    Identity.objects.filter(customer=dana).update(
        opted_out_at=timezone.now(), consent_source="sms:STOP"
    )

    nudge = propose(dana)

    assert nudge.status == "suppressed"
    assert nudge.reason == "sms: opted out (sms:STOP); web: no widget visitor"
    assert not Outbox.objects.exists()
    assert decision_events(dana)[0].data["reason"] == nudge.reason


def test_a_reminder_by_sms_needs_consent_on_record_but_a_service_message_does_not(clock):
    customer = shopper(consent=False)

    reminder = propose(customer, "k1")
    follow_up = propose(customer, "k2", rule="post_purchase", topic="service_followups")

    assert reminder.status == "suppressed"
    assert reminder.reason.startswith("sms: no consent on record for cart reminders by SMS")
    assert follow_up.status == "sent"


def test_a_message_due_at_half_past_nine_at_night_goes_at_eight(clock, dana, sweep):
    night = clock.at(timedelta(hours=11, minutes=30))  # 21:30 in San Francisco

    nudge = propose(dana)

    assert nudge.status == "waiting" and nudge.reason.startswith("quiet hours")
    morning = clock.start + timedelta(hours=22)  # 08:00 the next day, PDT
    assert nudge.next_action_at == morning
    clock.at(timedelta(hours=21, minutes=59))
    sweep()
    nudge.refresh_from_db()
    assert nudge.status == "waiting"

    clock.at(timedelta(hours=22))
    sweep()

    nudge.refresh_from_db()
    assert nudge.status == "sent" and nudge.decided_at == morning > night
    assert [e.data["status"] for e in decision_events(dana)] == ["waiting", "sent"]


def test_quiet_hours_follow_the_profile_time_zone_first(clock):
    customer = shopper()
    customer.time_zone = "Europe/Paris"  # 18:00 there at MORNING: fine
    customer.save()
    clock.at(timedelta(hours=4))  # 23:00 in Paris, 14:00 in San Francisco

    assert propose(customer).reason == "quiet hours: waits until Wed 08:00 (Europe/Paris; federal)"


def test_an_answer_to_the_customers_own_contact_is_not_held_by_the_night(clock, dana):
    clock.at(timedelta(hours=13))  # 23:00 in San Francisco

    nudge = propose(dana, rule="missed_call", topic="service_followups", data={"responsive": True})

    assert nudge.status == "sent"


def test_nothing_automatic_while_a_case_is_hot(clock, dana):
    conversation = dana.conversation
    case = Case.objects.create(conversation=conversation, priority=Case.Priority.HOT)
    conversation.current_case = case
    conversation.priority = Case.Priority.HOT
    conversation.save()

    nudge = propose(dana)

    assert nudge.status == "suppressed" and nudge.reason.startswith("hot case")


def test_nothing_automatic_while_an_agent_is_talking_with_the_customer(clock, dana, agent):
    from conversations import outbox

    outbox.send(customer=dana, channel="sms", body="Hi Dana, Alice here.", author=agent)
    clock.at(timedelta(minutes=29))
    talking = propose(dana, "k1")
    clock.at(timedelta(minutes=31))
    later = propose(dana, "k2")

    assert talking.status == "suppressed" and talking.reason.startswith("agent active")
    assert later.status == "sent"


def test_frequency_caps_one_a_day_and_three_a_week(clock, dana):
    first = propose(dana, "k1")
    clock.at(timedelta(hours=23))
    same_day = propose(dana, "k2")
    sent = [first]
    for n, hours in enumerate([24, 48], start=3):
        clock.at(timedelta(hours=hours))
        sent.append(propose(dana, f"k{n}"))
    clock.at(timedelta(hours=72))
    fourth = propose(dana, "k9")

    assert [n.status for n in sent] == ["sent"] * 3
    assert same_day.status == "suppressed" and same_day.reason == "frequency cap: 1 per 24 h"
    assert fourth.status == "suppressed" and fourth.reason == "frequency cap: 3 per 7 days"


def test_one_message_per_dedupe_key_and_the_repeat_is_recorded(clock, dana):
    first = propose(dana, "cart_abandoned:cart:1:1")
    again = propose(dana, "cart_abandoned:cart:1:1")

    assert again.pk == first.pk and len(nudges()) == 1
    assert Outbox.objects.count() == 1
    repeat = decision_events(dana)[-1]
    assert repeat.data["sent"] is False and repeat.data["reason"].startswith("duplicate")


def test_two_rules_due_together_send_one_message_the_higher_priority(clock, dana, sweep):
    due = timezone.now()
    low = propose(dana, "k1", rule="evaluation_left", topic="offers", priority=10, due_at=due)
    high = propose(dana, "k2", priority=30, due_at=due)

    sweep()

    low.refresh_from_db()
    high.refresh_from_db()
    assert high.status == "sent"
    assert low.status == "suppressed" and low.reason == "outranked: cart_abandoned was sent instead"
    assert Event.objects.filter(kind="message", direction="out").count() == 1


def gate_no_sms_offers(customer, *, topic, channel, now):
    return "preferences: no offers by SMS" if (topic, channel) == ("offers", "sms") else None


def test_gates_from_settings_are_asked_per_channel(clock, settings):
    settings.ENGAGEMENT_GATES = ["tests.engagement.test_arbiter.gate_no_sms_offers"]
    both = shopper(visitor=True)

    offer = propose(both, "k1", rule="evaluation_left", topic="offers")

    assert offer.status == "sent" and offer.channel == "web"
    (recorded,) = decision_events(both)
    assert recorded.data["channel"] == "web"

    sms_only = shopper(phone="+14155550150")
    refused = propose(sms_only, "k2", rule="evaluation_left", topic="offers")
    assert refused.reason == "sms: preferences: no offers by SMS; web: no widget visitor"


def test_never_by_voice(clock, dana):
    nudge = propose(dana, channels=("voice",))

    assert nudge.status == "suppressed" and nudge.reason == "voice: never by voice"


def test_caps_follow_the_person_when_two_customers_merge(clock):
    from conversations.identities import merge_customers

    web = shopper(phone="", visitor=True)
    texted = shopper(phone="+14155550180")
    assert propose(web, "k1").status == "sent"

    survivor = merge_customers(web, texted)
    again = propose(texted, "k2")

    assert again.customer == survivor and nudges(customer=survivor)[0].pk != again.pk
    assert again.status == "suppressed" and again.reason == "frequency cap: 1 per 24 h"
