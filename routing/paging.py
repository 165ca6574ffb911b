"""Paging the on-call agents of a hot case's team by SMS: `page_on_call`.

Called by the journal hook for each `routing` event whose action is `hot` (whoever marked
the case hot: routing, the voice adapter's missed calls, an agent), so every hot case is
paged once. The page goes through the outbox like any SMS (at most once, retried, STOP
honoured): the agent's phone is an identity of a customer of its own, so pages and any
answer form that agent's own conversation. A page carries the case number, the reason
and the console link, never the customer's phone or message.
"""

from __future__ import annotations

from django.conf import settings

from conversations import journal, outbox
from conversations.identities import resolve_customer
from conversations.models import AgentProfile, Case, Event


def on_call_agents(case: Case) -> list[AgentProfile]:
    """The case team's on-call agents with a phone; everyone on call when it has no team."""
    agents = AgentProfile.objects.filter(on_call=True, user__is_active=True).exclude(phone="")
    if case.team_id is not None:
        agents = agents.filter(teams=case.team_id)
    return list(agents.select_related("user").order_by("pk"))


def page_on_call(hot: Event) -> list[Event]:
    """Text the on-call agents about the hot case of this `routing` event; return the
    messages written. Refusals are recorded on the customer's timeline."""
    case = (
        Case.objects.select_related("team", "conversation__customer")
        .filter(pk=hot.data.get("case"))
        .first()
    )
    if case is None:
        return []
    team = f" ({case.team})" if case.team else ""
    link = (
        f"{settings.PUBLIC_BASE_URL}/admin/conversations/conversation/"
        f"{case.conversation_id}/change/"
    )
    body = f"Hot case #{case.pk}{team}: {hot.data.get('reason', 'hot')}. {link}"
    sent, paged = [], []
    for profile in on_call_agents(case):
        pager = resolve_customer("phone", profile.phone, display_name=f"Pager: {profile.user}")
        try:
            sent.append(
                outbox.send(
                    customer=pager,
                    channel=Event.Channel.SMS,
                    body=body,
                    data={"page": case.pk, "agent": profile.user_id},
                )
            )
            paged.append(str(profile.user))
        except outbox.Refused as exc:
            journal.record(
                customer=case.conversation.customer,
                channel=Event.Channel.SYSTEM,
                kind="routing",
                direction=Event.Direction.INTERNAL,
                body=f"Page to {profile.user} not sent: {exc}",
                data={"action": "page", "case": case.pk, "agent": profile.user_id, "sent": False},
            )
    if sent:
        names = ", ".join(paged)
        journal.record(
            customer=case.conversation.customer,
            channel=Event.Channel.SYSTEM,
            kind="routing",
            direction=Event.Direction.INTERNAL,
            body=f"Paged on call: {names}",
            data={"action": "page", "case": case.pk, "pages": [e.pk for e in sent], "sent": True},
        )
    return sent
