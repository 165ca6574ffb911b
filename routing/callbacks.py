"""Scheduled call backs: the customer books a slot (`schedule_call_back`), and when it is
due a sweep puts it in an agent's inbox (`raise_due_call_backs`), ready for click-to-call.

Booking records the customer's request as an inbound web message (it opens a case when
none is open, so routing and the inbox see it like any request). The slot is stored as
`next_action_at` and the sweep picks up what is due: never a countdown task (DESIGN.md).
When due: the case (the booked one, else the customer's open case) goes to the agent on
it if available, else to the best available agent; it is raised (hot: first in the
inbox) and a `routing` event says "scheduled call back due".
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from base.inputs import MAX_AHEAD
from conversations import cases, journal
from conversations.identities import live_customer
from conversations.models import Case, Customer, Event

from . import assignment, rules
from .models import ScheduledCallBack
from .triage import skill_for

BATCH_SIZE = 100  # call backs raised per sweep run; a run takes well under a second per 100


class SlotUnavailable(ValueError):
    """The slot is not one the page offers (outside business hours, past, malformed)."""


def schedule_call_back(
    *, customer: Customer, slot: datetime, time_zone: str, by_customer: bool = False
) -> ScheduledCallBack:
    """Book a call back at `slot` (its page checked it against the slots it offers; the
    console's agents may pick any time in the coming year). Raises SlotUnavailable for a
    slot outside that (past, or so far ahead that a typo is likelier than a plan).

    `by_customer`: the customer booked it on their page, and their request is recorded as
    an inbound web message (opening a case if none is open); otherwise (an agent, from the
    console) a `routing` event on the open case records it.
    """
    now = timezone.now()
    if timezone.is_naive(slot) or slot <= now:
        raise SlotUnavailable("Pick a time in the future.")
    if slot > now + MAX_AHEAD:
        raise SlotUnavailable("Pick a time within the coming year.")
    try:
        local = slot.astimezone(zoneinfo.ZoneInfo(time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SlotUnavailable(f"{time_zone!r} is not a time zone.") from None
    with transaction.atomic():
        customer = live_customer(customer)
        # one call back per customer: a new booking replaces the one waiting
        ScheduledCallBack.objects.filter(
            customer=customer, status=ScheduledCallBack.Status.SCHEDULED
        ).update(status=ScheduledCallBack.Status.CANCELLED, next_action_at=None)
        call_back = ScheduledCallBack.objects.create(
            customer=customer, slot_start=slot, next_action_at=slot, time_zone=time_zone
        )
        when = f"{local:%a %d %b at %H:%M} ({time_zone})"
        data = {"call_back": call_back.pk, "slot": slot.isoformat()}
        if by_customer:
            event = journal.record(
                customer=customer,
                channel=Event.Channel.WEB,
                kind="message",
                direction=Event.Direction.IN,
                body=f"Please call me back on {when}.",
                data=data,
                source_id=f"call-back:{call_back.pk}",
            )
        else:
            event = journal.record(
                customer=customer,
                channel=Event.Channel.SYSTEM,
                kind="routing",
                direction=Event.Direction.INTERNAL,
                body=f"Call back booked for {when}",
                data={**data, "action": "call_back_booked"},
            )
        call_back.case_id = event.case_id
        call_back.save(update_fields=["case"])
    return call_back


def raise_due_call_backs(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Put every call back due by `now` in an agent's inbox; return how many.

    Rows are claimed with SKIP LOCKED, one transaction each, so two sweeps share the work
    and a crash leaves the rest for the next run.
    """
    now = now or timezone.now()
    done = 0
    while done < batch_size:
        with transaction.atomic():
            call_back = (
                ScheduledCallBack.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(status=ScheduledCallBack.Status.SCHEDULED, next_action_at__lte=now)
                .order_by("next_action_at")
                .first()
            )
            if call_back is None:
                break
            _raise(call_back, now)
        done += 1
    return done


def _raise(call_back: ScheduledCallBack, now: datetime) -> None:
    customer = live_customer(call_back.customer)
    case = None
    if call_back.case_id is not None:
        case = (
            Case.objects.exclude(status=Case.Status.RESOLVED).filter(pk=call_back.case_id).first()
        )
    if case is None:
        case = (
            Case.objects.filter(pk=customer.conversation.current_case_id).first()
            if customer.conversation.current_case_id
            else None
        )
    agent = None
    if case is not None:
        agent = assignment.assign(
            case,
            reason="scheduled call back due",
            needs_phone=True,
            skill=skill_for(case.intent, rules.current()),
        ) or assignment.assign(case, reason="scheduled call back due")
        cases.mark_hot(case, reason="scheduled call back due", data={"call_back": call_back.pk})
    local = call_back.slot_start.astimezone(zoneinfo.ZoneInfo(call_back.time_zone))
    journal.record(
        customer=customer,
        channel=Event.Channel.SYSTEM,
        kind="routing",
        direction=Event.Direction.INTERNAL,
        body=f"Scheduled call back due ({local:%a %H:%M}): "
        + (f"{agent} calls the customer" if agent else "no agent available yet"),
        data={
            "action": "call_back_due",
            "call_back": call_back.pk,
            "case": case.pk if case else None,
            "agent": agent.pk if agent else None,
            "slot": call_back.slot_start.isoformat(),
        },
    )
    call_back.status = ScheduledCallBack.Status.DUE
    call_back.next_action_at = None
    call_back.due_at = now
    call_back.agent = agent
    call_back.case = case
    call_back.save(update_fields=["status", "next_action_at", "due_at", "agent", "case"])
