"""The arbiter: rules propose, one function decides (docs/engagement.md, "The arbiter").

`propose` stores a rule's message as a `Nudge` (one per `dedupe_key`: one message per rule
step per cart, call or order). `decide` is the one place where anything proactive is
sent: under the customer's conversation lock, in one transaction, it takes every nudge of
the customer that is due, best priority first, and for each one:

1. picks the first of its channels that may carry it: the identity has not said STOP, SMS
   and WhatsApp on a marketing topic (ENGAGEMENT_CONSENT_TOPICS) need consent on record,
   the web needs a widget visitor, and every gate of ENGAGEMENT_GATES agrees (WhatsApp's
   own: inside its 24-hour window, or the topic has an approved template); none:
   suppressed, with each channel's reason;
2. past its `expires_at` (no longer worth sending): suppressed, "expired";
3. quiet hours of the recipient's jurisdictions on their clock (jurisdictions.py): it waits
   for the next allowed time, or expires if that comes after `expires_at`;
4. a hot case, an agent talking with the customer, a frequency cap (caps.py: the shop's,
   and the law's per subject for the recipient's jurisdictions): suppressed;
5. otherwise sent: `outbox.send` for SMS and email (its row commits with this decision,
   carrying the expiry and the jurisdictions so that every send attempt checks them again:
   attempts.py), WhatsApp's reply verb (the same outbox, free text inside the window or
   the approved template outside it; the decision says which), or the web's reply verb
   for the widget (kind `reply_verbs`: live if
   she is online, at her next visit otherwise); and once one is sent, the others due
   with it are suppressed ("outranked").

One offer in one place: a nudge carrying a `proposal` (the call-back offer, whichever rule
made it: the missed-call SMS, routing's pop-up) is suppressed ("duplicate") when the same
proposal was sent to the customer on any channel within ENGAGEMENT_OFFER_ONCE_HOURS, so
she never gets it by SMS, then as a chat message, then as a pop-up. A web nudge whose
`data["delivery"]` is "popup" is shown by its proposer (routing's `offer` event): the
arbiter decides it and sends no chat message of its own.

Nudges that answer the customer's own contact (a missed call, a message after hours) are
`responsive`: quiet hours, caps and a hot case do not hold them back (they still expire).
Every decision
(sent, waiting, suppressed, and why) is an internal `nudge` event in the timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from base import plugins
from conversations import journal, outbox, reactions
from conversations.identities import live_customer
from conversations.locks import conversation_for_update
from conversations.models import Case, Conversation, Customer, Event, Identity
from conversations.reply_verbs import reply_verb

from . import caps, jurisdictions
from .jurisdictions import Regime
from .models import Nudge

logger = logging.getLogger(__name__)

CHANNELS = ("sms", "web")  # never voice: nobody wants a robot calling about a cart
# What a rule may name (the admin checks): WhatsApp when a rule or the admin asks for it.
SENDABLE = ("sms", "whatsapp", "web")
AGENT_LOOKBACK_EVENTS = 50  # "is an agent talking?" reads at most this many recent events

# Reasons, as recorded (insights groups by the part before the colon).
OPTED_OUT = "opted out"
NO_CONSENT = "no consent on record"
QUIET_HOURS = "quiet hours"
HOT_CASE = "hot case"
AGENT_ACTIVE = "agent active"
CAP = caps.CAP
EXPIRED = "expired"
OUTRANKED = "outranked"
DUPLICATE = "duplicate"


# ---------------------------------------------------------------------------- proposing


def propose(
    customer: Customer,
    *,
    rule: str,
    step: int,
    dedupe_key: str,
    topic: str,
    body: str,
    priority: int = 0,
    due_at: datetime | None = None,
    channels: tuple[str, ...] | list[str] = CHANNELS,
    data: dict | None = None,
    expires_after: timedelta | None = None,
) -> Nudge:
    """Store a rule's proposal; return its nudge (the existing one for a known dedupe key).

    `due_at=None` means now: it is decided at once, in the caller's transaction. A later
    `due_at` (or an explicit one, as the sweeps give) leaves it for `decide` to pick up.
    `data["to"]` names the phone to text; `data["responsive"]` marks an answer to the
    customer's own contact; `expires_after`, how long after `due_at` it stays worth
    sending (None: always). A repeated dedupe key writes no new nudge, and that decision
    ("duplicate") is recorded in the timeline too.
    """
    now = timezone.now()
    customer = live_customer(customer)
    # no savepoint of its own: the insert's savepoint is the only one a repeat needs
    with transaction.atomic(savepoint=False):
        try:
            with transaction.atomic():
                nudge = Nudge.objects.create(
                    customer=customer,
                    rule=rule,
                    step=step,
                    dedupe_key=dedupe_key,
                    topic=topic,
                    channels=list(channels),
                    priority=priority,
                    body=body,
                    data=data or {},
                    proposed_at=now,
                    due_at=due_at or now,
                    next_action_at=due_at or now,
                    expires_at=(due_at or now) + expires_after if expires_after else None,
                )
        except IntegrityError:  # the unique dedupe key: proposed before, or just now
            existing = Nudge.objects.get(dedupe_key=dedupe_key)
            record_decision(
                existing,
                customer=customer,
                sent=False,
                reason=f"{DUPLICATE}: nudge #{existing.pk} ({existing.status}) has this key",
                status=Nudge.Status.SUPPRESSED,
            )
            return existing
        if due_at is None:
            for decided in decide(customer, now=now):
                if decided.pk == nudge.pk:
                    return decided
            nudge.refresh_from_db()  # another transaction held it (SKIP LOCKED): as it is
    return nudge


# ---------------------------------------------------------------------------- deciding


@dataclass(frozen=True)
class Route:
    channel: str
    to: str = ""  # the phone for SMS, the address for email


def decide(customer: Customer, *, now: datetime | None = None) -> list[Nudge]:
    """Decide every due nudge of this customer, in one transaction; return them decided
    (or waiting again, postponed by quiet hours). Nudges another transaction holds are
    left to it (SKIP LOCKED)."""
    now = now or timezone.now()
    # savepoint=False: inside a sweep's per-customer savepoint, or alone, it is all or nothing
    with transaction.atomic(savepoint=False):
        # One decider per customer at a time: the conversation lock serialises them with
        # each other and with the journal, so two rules can never both get through.
        conversation = conversation_for_update(customer)
        if conversation.customer_id != customer.pk:
            customer = conversation.customer  # merged meanwhile: the survivor decides
        due = list(
            Nudge.objects.select_for_update(no_key=True, skip_locked=True)
            .filter(customer=customer, status=Nudge.Status.WAITING, next_action_at__lte=now)
            .order_by("-priority", "proposed_at", "pk")
        )
        winner: Nudge | None = None
        for nudge in due:
            if winner is not None:
                _suppress(nudge, customer, f"{OUTRANKED}: {winner.rule} was sent instead", now=now)
            elif _decide_one(nudge, customer, conversation, now) == Nudge.Status.SENT:
                winner = nudge
    return due


def withdraw(customer: Customer, *, reason: str, rules: tuple[str, ...] | None = None) -> int:
    """Suppress the customer's waiting nudges (of these rules, or all) for `reason`: a
    sequence stops at once when the customer replies, orders or says stop. Returns how
    many; each is recorded like any other decision. Replaying an event (`manage.py
    replay_reactions`), only nudges proposed before it."""
    now = timezone.now()
    with transaction.atomic():
        waiting = Nudge.objects.filter(customer=customer, status=Nudge.Status.WAITING)
        if rules is not None:
            waiting = waiting.filter(rule__in=rules)
        if (replayed := reactions.replaying()) is not None:
            waiting = waiting.filter(proposed_at__lte=replayed.recorded_at)
        if not waiting.exists():
            return 0  # the common case costs one indexed query and no lock
        conversation = conversation_for_update(customer)
        nudges = list(waiting.select_for_update(no_key=True, skip_locked=True))
        for nudge in nudges:
            _suppress(nudge, conversation.customer, reason, now=now)
    return len(nudges)


def _decide_one(nudge: Nudge, customer: Customer, conversation: Conversation, now) -> str:
    if nudge.expires_at is not None and now >= nudge.expires_at:
        return _suppress(nudge, customer, expired_reason(nudge), now=now)
    if (earlier := offered_already(nudge, customer, now)) is not None:
        when = f"{earlier.decided_at:%a %H:%M} UTC" if earlier.decided_at else "before"
        reason = (
            f"{DUPLICATE}: the {nudge.data['proposal'].replace('_', ' ')} was sent by "
            f"{earlier.channel.upper()} {when} (nudge #{earlier.pk})"
        )
        return _suppress(nudge, customer, reason, now=now)
    responsive = bool(nudge.data.get("responsive"))
    route, refusals = None, []
    for channel in nudge.channels:
        found, refusal = _route(customer, nudge, channel, now)
        if found is not None:
            route = found
            break
        refusals.append(f"{channel}: {refusal}")
    if route is None:
        return _suppress(nudge, customer, "; ".join(refusals) or "no channel", now=now)
    regime = None
    if not responsive:
        regime = jurisdictions.for_recipient(customer, phone=route.to)
        later = regime.next_allowed(now)
        if later is not None and nudge.expires_at is not None and later >= nudge.expires_at:
            reason = f"{expired_reason(nudge)} before {quiet_hours_end(later, regime)}"
            return _suppress(nudge, customer, reason, now=now, regime=regime)
        if later is not None:
            return _postpone(nudge, customer, later, regime, now=now)
        if conversation.priority >= Case.Priority.HOT:
            return _suppress(
                nudge, customer, f"{HOT_CASE}: an agent handles this customer now", now=now
            )
    if _agent_active(conversation, now):
        return _suppress(
            nudge, customer, f"{AGENT_ACTIVE}: an agent wrote to the customer lately", now=now
        )
    if not responsive and (cap := caps.reached(customer, now, topic=nudge.topic, regime=regime)):
        return _suppress(nudge, customer, cap, now=now, regime=regime)
    return _send(nudge, customer, route, regime, now=now)


def offered_already(nudge: Nudge, customer: Customer, now: datetime) -> Nudge | None:
    """The nudge that already carried this nudge's proposal to the customer, on any
    channel, within ENGAGEMENT_OFFER_ONCE_HOURS; None if none did (or it has none)."""
    proposal = nudge.data.get("proposal")
    if not proposal:
        return None
    since = now - timedelta(hours=settings.ENGAGEMENT_OFFER_ONCE_HOURS)
    return (
        Nudge.objects.filter(
            customer=customer,
            status=Nudge.Status.SENT,
            decided_at__gte=since,
            data__proposal=proposal,
        )
        .exclude(pk=nudge.pk)
        .order_by("-decided_at")
        .first()
    )


def expired_reason(nudge: Nudge) -> str:
    return f"{EXPIRED}: no longer worth sending after {nudge.expires_at:%a %H:%M} UTC"


def quiet_hours_end(later: datetime, regime: Regime) -> str:
    """ "Tue 08:00 (America/New_York; Florida)": when the recipient's quiet hours end."""
    return f"{later.astimezone(regime.zone):%a %H:%M} ({regime.zone.key}; {regime.describe()})"


def _route(customer: Customer, nudge: Nudge, channel: str, now) -> tuple[Route | None, str]:
    """Whether `channel` may carry this nudge: (a route, "") or (None, the reason)."""
    route: Route | None
    refusal = ""
    if channel == "sms":
        route, refusal = _address_route(
            customer, nudge, Identity.Kind.PHONE, "sms",
            missing="no phone number", revoked="STOP", label="SMS",
        )  # fmt: skip
    elif channel == "whatsapp":
        if reply_verb("whatsapp") is None:  # no installed app sends on WhatsApp
            return None, "never by whatsapp"
        # Whether WhatsApp's 24-hour window (or an approved template) lets the nudge go is
        # the WhatsApp adapter's gate (ENGAGEMENT_GATES), asked next.
        route, refusal = _address_route(
            customer, nudge, Identity.Kind.WHATSAPP, "whatsapp",
            missing="no WhatsApp account", revoked="STOP", label="WhatsApp",
        )  # fmt: skip
    elif channel == "email":  # only for rules that list it (docs/email.md)
        route, refusal = _address_route(
            customer, nudge, Identity.Kind.EMAIL, "email",
            missing="no email address", revoked="unsubscribed", label="email", addressed=False,
        )  # fmt: skip
    elif channel == "web":
        if reply_verb("web") is None:  # no installed app sends to the widget
            return None, "never by web"
        if not customer.identities.filter(kind=Identity.Kind.VISITOR).exists():
            return None, "no widget visitor"
        route = Route("web")
    else:
        return None, f"never by {channel}"
    if route is None:
        return None, refusal
    for gate in _gates():
        if reason := gate(customer, topic=nudge.topic, channel=channel, now=now):
            return None, str(reason)
    return route, ""


def _address_route(
    customer: Customer,
    nudge: Nudge,
    kind: str,
    channel: str,
    *,
    missing: str,
    revoked: str,
    label: str,
    addressed: bool = True,
) -> tuple[Route | None, str]:
    """The customer's newest address of `kind` that may carry the nudge: not opted out,
    and consented for a marketing topic. `addressed`: the nudge's `to` (a number) picks
    the address, as for SMS and WhatsApp (the same E.164 number)."""
    addresses = customer.identities.filter(kind=kind)
    if addressed and (to := nudge.data.get("to")):
        addresses = addresses.filter(value=to)
    addresses = list(addresses.order_by("-created_at", "-pk"))
    if not addresses:
        return None, missing
    reachable = [a for a in addresses if a.opted_out_at is None]
    if not reachable:
        return None, f"{OPTED_OUT} ({addresses[0].consent_source or revoked})"
    if nudge.topic in settings.ENGAGEMENT_CONSENT_TOPICS:
        reachable = [a for a in reachable if a.consented_at is not None]
        if not reachable:
            return None, f"{NO_CONSENT} for {nudge.topic.replace('_', ' ')} by {label}"
    return Route(channel, reachable[0].value), ""


@cache
def _gate(path: str):
    return import_string(path)


def _gates() -> list:
    # read each time, imported once: tests and the privacy helper's settings may change it
    return [_gate(path) for path in plugins.paths("engagement_gates")]


def _agent_active(conversation: Conversation, now: datetime) -> bool:
    """An agent wrote to the customer within ENGAGEMENT_AGENT_ACTIVE_MINUTES."""
    since = now - timedelta(minutes=settings.ENGAGEMENT_AGENT_ACTIVE_MINUTES)
    if conversation.last_outbound_at is None or conversation.last_outbound_at < since:
        return False  # the summary row answers most calls without reading events
    recent = conversation.events.order_by("-seq").values_list(
        "direction", "author_id", "occurred_at"
    )[:AGENT_LOOKBACK_EVENTS]
    return any(
        direction == Event.Direction.OUT and author and at >= since
        for direction, author, at in recent
    )


# ---------------------------------------------------------------------------- outcomes


def _send(nudge: Nudge, customer: Customer, route: Route, regime: Regime | None, *, now) -> str:
    data = {k: v for k, v in nudge.data.items() if k not in ("to", "responsive")}
    data.update({"nudge": nudge.pk, "rule": nudge.rule, "step": nudge.step})
    # what every send attempt checks again (attempts.py): the expiry, and the quiet hours
    # of the jurisdictions decided here, on the recipient's clock
    data["send_rules"] = {
        "expires_at": nudge.expires_at.isoformat() if nudge.expires_at else None,
        **({"jurisdictions": regime.codes, "zone": regime.zone.key} if regime else {}),
    }
    if route.channel in ("sms", "email"):
        try:
            # an email nudge carries one-click List-Unsubscribe (data["nudge"], docs/email.md)
            message = outbox.send(
                customer=customer, channel=route.channel, body=nudge.body, to=route.to, data=data
            )
        except outbox.Refused as exc:  # e.g. too long, or a STOP that raced us
            return _suppress(nudge, customer, str(exc), now=now)
        nudge.outbox = message.outbox
    elif route.channel == "whatsapp":
        # through the WhatsApp adapter's verb (the registry): free text inside the 24-hour
        # window, else the topic's approved template; it refuses when neither may go
        try:
            message = reply_verb("whatsapp")(
                customer=customer,
                channel="whatsapp",
                body=nudge.body,
                author=None,
                to=route.to,
                topic=nudge.topic,
                variables=nudge.data.get("template_variables"),
                data=data,
            )
        except outbox.Refused as exc:  # the window closed meanwhile, a STOP that raced us
            return _suppress(nudge, customer, str(exc), now=now)
        nudge.outbox = message.outbox
    elif nudge.data.get("delivery") == "popup":
        # its proposer shows it (routing's `offer` event, the widget's pop-up): a chat
        # message too would show the customer the same offer twice
        message = None
    else:
        # the widget's verb through the registry: engagement imports no channel adapter
        message = reply_verb("web")(customer=customer, author=None, body=nudge.body)
    nudge.message = message
    nudge.channel = route.channel
    nudge.status = Nudge.Status.SENT
    nudge.reason = ""
    return _decided(nudge, customer, now=now, sent=True, regime=regime)


def _suppress(
    nudge: Nudge, customer: Customer, reason: str, *, now, regime: Regime | None = None
) -> str:
    nudge.status = Nudge.Status.SUPPRESSED
    nudge.reason = reason[:300]
    return _decided(nudge, customer, now=now, sent=False, regime=regime)


def _decided(nudge: Nudge, customer: Customer, *, now, sent: bool, regime=None) -> str:
    nudge.decided_at = now
    nudge.next_action_at = None
    nudge.event = record_decision(
        nudge, customer=customer, sent=sent, reason=nudge.reason, regime=regime
    )
    nudge.save(
        update_fields=[
            "status", "reason", "channel", "decided_at", "next_action_at", "outbox",
            "message", "event",
        ]
    )  # fmt: skip
    return nudge.status


def _postpone(nudge: Nudge, customer: Customer, later: datetime, regime: Regime, *, now) -> str:
    nudge.reason = f"{QUIET_HOURS}: waits until {quiet_hours_end(later, regime)}"
    nudge.next_action_at = later
    nudge.event = record_decision(
        nudge, customer=customer, sent=False, reason=nudge.reason, waiting=True, regime=regime
    )
    nudge.save(update_fields=["reason", "next_action_at", "event"])
    return Nudge.Status.WAITING


def label(rule: str) -> str:
    return rule.replace("_", " ").capitalize()


def record_decision(
    nudge: Nudge,
    *,
    customer: Customer,
    sent: bool,
    reason: str,
    waiting: bool = False,
    status: str | None = None,
    regime: Regime | None = None,
) -> Event:
    """The decision as an internal `nudge` event: what agents and insights read. With the
    jurisdictions whose quiet hours and caps it was decided under: the proof of why."""
    whatsapp = _whatsapp_mode(nudge) if sent else ""
    if sent:
        body = f"{label(nudge.rule)} (step {nudge.step}) sent by {nudge.channel.upper()}"
        if whatsapp:
            body += f" ({whatsapp})"
    elif waiting:
        body = f"{label(nudge.rule)} (step {nudge.step}) waits: {reason}"
    else:
        body = f"{label(nudge.rule)} (step {nudge.step}) not sent: {reason}"
    return journal.record(
        customer=customer,
        channel=Event.Channel.SYSTEM,
        kind="nudge",
        direction=Event.Direction.INTERNAL,
        body=body,
        data={
            "nudge": nudge.pk,
            "rule": nudge.rule,
            "step": nudge.step,
            "topic": nudge.topic,
            "status": status or (Nudge.Status.WAITING if waiting else nudge.status),
            "sent": sent,
            "channel": nudge.channel,
            "reason": reason,
            **({"proposal": nudge.data["proposal"]} if "proposal" in nudge.data else {}),
            **({"jurisdictions": regime.codes, "zone": regime.zone.key} if regime else {}),
            **({"whatsapp": whatsapp} if whatsapp else {}),
        },
    )


def _whatsapp_mode(nudge: Nudge) -> str:
    """How a WhatsApp nudge went: "free text in the 24-hour window" or "template HX...";
    "" for other channels (the WhatsApp verb wrote its decision in the message's data)."""
    if nudge.channel != "whatsapp" or nudge.message is None:
        return ""
    decided = (nudge.message.data or {}).get("whatsapp") or {}
    if decided.get("mode") == "template":
        return f"template {decided.get('content_sid', '')}".strip()
    return "free text in the 24-hour window"
