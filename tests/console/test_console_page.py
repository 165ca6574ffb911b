"""The conversation page: timeline, context panel, reply box and the agent's actions."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from conversations import consent, journal
from conversations.identities import link_identity, resolve_customer
from conversations.models import (
    CannedResponse,
    Case,
    Conversation,
    Customer,
    Event,
    Identity,
    Outbox,
)
from tests.rows import row_counts

pytestmark = pytest.mark.django_db
PHONE = "+14155550132"


def page_url(conversation):
    return reverse("admin:conversations_conversation_change", args=[conversation.pk])


def action_url(name, conversation):
    return reverse(f"admin:conversations_{name}", args=[conversation.pk])


def texting(body="Hi, is the T900 in stock?", name="Dana Scully"):
    customer = resolve_customer("phone", PHONE, display_name=name)
    journal.record(customer=customer, channel="sms", kind="message", direction="in", body=body)
    return Conversation.objects.get(customer=customer)


def timeline_json(response) -> list[dict]:
    page = response.content.decode()
    start = page.index('id="timeline-events"')
    start = page.index(">", start) + 1
    return json.loads(page[start : page.index("</script>", start)])


def test_customer_html_and_script_render_inert(client, agent):
    client.force_login(agent)
    conversation = texting(
        body="<script>alert('x')</script><img src=x onerror=alert(1)>", name="<b>Eve</b>"
    )

    response = client.get(page_url(conversation))

    page = response.content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Eve</b>" not in page
    assert "&lt;b&gt;Eve&lt;/b&gt;" in page
    # the script renders the JSON with textContent; the JSON itself cannot close its tag
    assert timeline_json(response)[-1]["body"].startswith("<script>alert('x')</script>")


def test_the_timeline_shows_every_kind_with_its_details(client, agent):
    client.force_login(agent)
    conversation = texting()
    customer = conversation.customer
    for kind, channel, direction, data in [
        (
            "call",
            "voice",
            "in",
            {"recording_url": "https://api.twilio.com/r.mp3", "transcript": "hi"},
        ),
        ("scan", "instore", "in", {"product": {"name": "T900"}, "store": {"name": "Downtown"}}),
        ("nudge", "system", "internal", {"sent": False, "reason": "quiet hours"}),
        ("routing", "system", "internal", {"reason": "cart over 2000"}),
    ]:
        journal.record(
            customer=customer, channel=channel, kind=kind, direction=direction, data=data
        )

    events = timeline_json(client.get(page_url(conversation)))

    assert [e["kind"] for e in events] == ["message", "call", "scan", "nudge", "routing"]
    assert events[1]["data"]["transcript"] == "hi"
    assert events[3]["data"]["reason"] == "quiet hours"


def test_opening_the_conversation_marks_it_read(client, agent):
    client.force_login(agent)
    conversation = texting()
    assert conversation.unread_count == 1

    client.get(page_url(conversation))

    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_the_panel_suggests_a_call_back_after_missed_calls_with_the_reason(client, agent):
    client.force_login(agent)
    conversation = texting(body="Why does nobody answer? What about the warranty?")
    for _ in range(2):
        journal.record(
            customer=conversation.customer, channel="voice", kind="missed_call", direction="in"
        )

    response = client.get(page_url(conversation))

    suggestions = [(s.action, s.label, s.reason) for s in response.context["suggestions"]]
    assert suggestions[0][0] == "call_back" and "2 missed calls" in suggestions[0][2]
    assert suggestions[1][:2] == ("answer", "Answer the warranty question")
    assert "2 missed calls" in response.content.decode()


def test_rankers_named_in_settings_reorder_the_suggestions(client, agent, settings):
    settings.THROUGHLINE_SUGGESTION_RANKERS = ["tests.console.test_console_page.reverse_all"]
    client.force_login(agent)
    conversation = texting(body="A question?")
    journal.record(
        customer=conversation.customer, channel="voice", kind="missed_call", direction="in"
    )

    response = client.get(page_url(conversation))

    assert [s.action for s in response.context["suggestions"]] == ["answer", "call_back"]


def reverse_all(customer, context, suggestions):
    return list(reversed(suggestions))


def test_the_channel_picker_defaults_to_the_last_channel_and_says_why_one_is_not_allowed(
    client, agent
):
    client.force_login(agent)
    conversation = texting()

    response = client.get(page_url(conversation))

    assert response.context["default_channel"] == "sms"
    web = next(c for c in response.context["reply_channels"] if c.channel == "web")
    assert not web.allowed and "never used the web chat" in web.reason


def test_an_opted_out_phone_moves_the_default_to_the_web_and_shows_the_reason(client, agent):
    client.force_login(agent)
    conversation = texting()
    link_identity(conversation.customer, "visitor", "v-123")
    consent.opt_out(Identity.objects.get(value=PHONE), source="sms:STOP")

    response = client.get(page_url(conversation))

    assert response.context["default_channel"] == "web"
    assert "opted out of SMS" in response.content.decode()


def test_a_reply_by_sms_goes_through_the_outbox(client, agent):
    client.force_login(agent)
    conversation = texting()

    response = client.post(
        action_url("reply", conversation), {"channel": "sms", "body": "Yes, we have it."}
    )

    assert response.status_code == 302
    event = Event.objects.get(conversation=conversation, direction="out")
    assert (event.channel, event.body, event.author) == ("sms", "Yes, we have it.", agent)
    assert Outbox.objects.get(event=event).to_address == PHONE
    case = Case.objects.get(pk=conversation.current_case_id)
    assert case.first_response_at is not None


def test_a_reply_to_an_opted_out_customer_is_refused_with_the_reason(client, agent):
    client.force_login(agent)
    conversation = texting()
    consent.opt_out(Identity.objects.get(value=PHONE), source="sms:STOP")

    response = client.post(
        action_url("reply", conversation), {"channel": "sms", "body": "Hello?"}, follow=True
    )

    assert "opted out of sms" in response.content.decode()
    assert not Outbox.objects.exists()


def test_a_reply_on_the_web_reaches_the_widget_history(client, agent):
    client.force_login(agent)
    conversation = texting()
    link_identity(conversation.customer, "visitor", "v-123")

    client.post(action_url("reply", conversation), {"channel": "web", "body": "Hi there"})

    event = Event.objects.get(conversation=conversation, direction="out")
    assert (event.channel, event.delivery_status) == ("web", "sent")


def test_a_private_note_stays_internal_and_names_its_author(client, agent):
    client.force_login(agent)
    conversation = texting()

    client.post(action_url("note", conversation), {"body": "VIP, handle with care"})

    note = Event.objects.get(conversation=conversation, kind="note")
    assert (note.direction, note.channel) == ("internal", "agent")
    assert note.data["author_name"] == "alice"
    assert not Outbox.objects.exists()


def test_assign_resolve_and_snooze_leave_a_trace(client, agent, teammate):
    client.force_login(agent)
    conversation = texting()
    case_id = conversation.current_case_id

    client.post(action_url("assign", conversation), {"assignee": str(teammate.pk)})
    assert Case.objects.get(pk=case_id).assignee == teammate
    client.post(action_url("assign", conversation), {"assignee": "me"})
    assert Case.objects.get(pk=case_id).assignee == agent

    client.post(action_url("snooze", conversation), {"until": "4h"})
    case = Case.objects.get(pk=case_id)
    assert case.status == "snoozed"
    assert case.snoozed_until > timezone.now() + timedelta(hours=3)

    client.post(action_url("resolve", conversation))
    case.refresh_from_db()
    conversation.refresh_from_db()
    assert case.status == "resolved" and case.resolved_at is not None
    assert (conversation.status, conversation.current_case) == ("idle", None)
    actions = list(
        Event.objects.filter(conversation=conversation, kind="case").values_list(
            "data__action", flat=True
        )
    )
    assert actions == ["assign", "assign", "snooze", "resolve"]
    # the next need opens a new case
    journal.record(
        customer=conversation.customer,
        channel="sms",
        kind="message",
        direction="in",
        body="Me again",
    )
    conversation.refresh_from_db()
    assert conversation.current_case_id not in (None, case_id)


def test_bad_action_input_is_a_400_not_a_500(client, agent):
    client.force_login(agent)
    conversation = texting()

    assert client.post(action_url("snooze", conversation), {"until": "soon"}).status_code == 400
    assert client.post(action_url("assign", conversation), {"assignee": "x"}).status_code == 400
    assert client.post(action_url("assign", conversation), {"assignee": "999"}).status_code == 400


@time_machine.travel(datetime(2026, 11, 23, 15, 0, tzinfo=UTC), tick=False)
@pytest.mark.parametrize(
    "when",
    [
        "2026-02-30T10:00",  # well formed, no real time: parse_datetime raises
        "2026-11-24T25:00",
        "2026-11-24T10:00+99:00",
        "9999-12-31T23:59",  # year 10000 in UTC: stored, then every page reading it failed
        "2028-01-01T10:00",  # more than a year ahead
    ],
)
def test_a_snooze_or_call_back_time_no_page_could_keep_is_refused(client, agent, when):
    client.force_login(agent)
    conversation = texting()
    before = row_counts()

    snooze = client.post(
        action_url("snooze", conversation), {"until": when}, HTTP_X_REQUESTED_WITH="fetch"
    )
    call_back = client.post(
        action_url("schedule_call_back", conversation),
        {"slot": when, "time_zone": "America/New_York"},
        HTTP_X_REQUESTED_WITH="fetch",
    )

    for response in (snooze, call_back):
        assert response.status_code == 400 or response.json()["ok"] is False, response.content
    assert row_counts() == before
    assert Case.objects.get(pk=conversation.current_case_id).snoozed_until is None


def test_canned_responses_are_filled_in_from_the_context(client, agent):
    client.force_login(agent)
    CannedResponse.objects.create(
        shortcut="hello", title="Hello", body="Hi {first_name}, {agent} here. {unknown}"
    )
    conversation = texting()

    response = client.get(page_url(conversation))

    assert response.context["canned"] == [
        {"shortcut": "hello", "title": "Hello", "body": "Hi Dana, alice here. {unknown}"}
    ]


def test_merge_previews_what_moves_then_merges(client, agent):
    client.force_login(agent)
    conversation = texting()
    other = resolve_customer("email", "dana@example.com", display_name="D. Scully")
    journal.record(customer=other, channel="web", kind="message", direction="in", body="web hi")

    preview = client.get(action_url("merge", conversation), {"other": "dana@example.com"})

    assert preview.status_code == 200
    assert preview.context["preview"]["events"] == 1
    assert "email: dana@example.com" in preview.content.decode()
    assert not Customer.objects.filter(merged_into__isnull=False).exists()

    response = client.post(action_url("merge", conversation), {"other": str(other.pk)})

    assert response.status_code == 302
    other.refresh_from_db()
    assert other.merged_into == conversation.customer


def test_schedule_a_call_back_books_the_slot_through_routing(client, agent):
    from routing.models import ScheduledCallBack

    client.force_login(agent)
    conversation = texting()
    slot = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        action_url("schedule_call_back", conversation),
        {"slot": slot, "time_zone": "America/New_York"},
        follow=True,
    )

    assert "Call back scheduled" in response.content.decode()
    booked = ScheduledCallBack.objects.get(customer=conversation.customer)
    assert booked.time_zone == "America/New_York"
    assert (
        client.post(
            action_url("schedule_call_back", conversation), {"slot": "tomorrow"}
        ).status_code
        == 400
    )


def test_a_web_reply_to_someone_who_never_used_the_widget_is_refused(client, agent):
    client.force_login(agent)
    conversation = texting()

    response = client.post(
        action_url("reply", conversation), {"channel": "web", "body": "Hi"}, follow=True
    )

    assert "never used the web chat" in response.content.decode()
    assert not Event.objects.filter(conversation=conversation, direction="out").exists()


def test_the_panel_names_the_customers_personas(client, agent):
    from insights.models import Persona

    for name, channel in [("Texters", "sms"), ("Callers", "voice")]:
        rule = {"field": "channel_used", "op": "is", "value": channel}
        Persona.objects.create(name=name, slug=name.lower(), rules=[rule])
    client.force_login(agent)

    page = client.get(page_url(texting())).content.decode()

    assert "<dt>Personas</dt><dd>Texters</dd>" in page
