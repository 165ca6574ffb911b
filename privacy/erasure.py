"""Erasure: remove a customer's personal data from every table (docs/privacy.md).

`erase_customer(customer, by=user) -> ErasureReport`. In one transaction, under the
customer's conversation lock and the merge lock:

1. collect what Twilio holds (message, media and recording sids) from events not erased yet;
2. empty the bodies of the conversation's events and keep of their `data` only the keys
   the figures read (ERASURE_KEEP_KEYS: no names, numbers, media, recordings, transcripts),
   marking each `{"erased": true}`; source ids that are not Twilio sids (the widget's
   carry the visitor id) are dropped;
3. empty the outbox rows (bodies, numbers, media); keep a keyed hash of every address
   that had opted out on the suppression list (suppression.py: the stop outlives the
   erasure), and in the consent ledger replace the addresses by the same hash and blank
   the client's address and user agent (what was agreed to, when and how stays: the
   proof a claim may need);
4. ask every app that holds personal data to erase its own rows: the `erasure_hooks`
   they declare (PRIVACY_ERASURE_HOOKS overrides them), each called with
   `(customer, counts)` and adding what it changed to `counts` (instore detaches its
   scans from the visitor id, engagement empties its nudges and watches, routing cancels
   waiting call backs); they run before the identities go, so an app can still find
   rows stored against the customer's visitor ids or numbers. This module imports none
   of those apps;
5. delete the identities and the widget's phone verifications, blank the names of the
   customer and of every customer merged into them, and the admin's log lines naming them;
6. when anything changed, write the `Erasure` row (who, whom, when, counts) and an
   `erasure` event in the timeline.

Then, after commit and outside any transaction, ask Twilio through the SMS and voice
backends to delete the media, messages and recordings collected in 1.

The events, cases, carts and orders stay (the customer row becomes anonymous), so every
figure in insights is unchanged. A second erasure finds nothing left and changes nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from base import plugins
from conversations import journal
from conversations.identities import live_customer
from conversations.locks import conversation_for_update, merges_serialised
from conversations.merges import customer_tree
from conversations.models import Conversation, Customer, Event, Identity

from . import ledger, suppression
from .models import CustomerRecord, Erasure

logger = logging.getLogger(__name__)

# Keys of Event.data that say what happened, not who: the figures and the timeline's
# outline keep working on an erased history.
ERASURE_KEEP_KEYS = [
    "action",
    "allowed",
    "auto_reply",
    "call_status",
    "case",
    "changed",
    "currency",
    "duration",
    "identity_kind",
    "intent",
    "item_count",
    "keyword",
    "message",
    "placement",
    "product",
    "reason",
    "resolves",
    "revocation",
    "rule",
    "segments",
    "sku",
    "skus",
    "status",
    "store",
    "team",
    "topic",
    "total",
    "value",
]
_MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
_MEDIA_URL = re.compile(r"/Messages/((?:SM|MM)[0-9a-f]{32})/Media/(ME[0-9a-f]{32})")
_RECORDING_SID = re.compile(r"^RE[0-9a-f]{32}$")
_TWILIO_SID = r"^(SM|MM|CA|RE)[0-9a-f]{32}$"


@dataclass
class ErasureReport:
    customer_id: int
    counts: dict[str, int] = field(default_factory=dict)
    # what Twilio was asked to delete: {"messages": {"deleted": n, "missing": n, "failed": n}, ...}
    provider: dict[str, dict[str, int]] = field(default_factory=dict)
    erasure: Erasure | None = None

    @property
    def changed(self) -> bool:
        return any(self.counts.values()) or any(sum(v.values()) for v in self.provider.values())

    def summary(self) -> str:
        if not self.changed:
            return f"Customer #{self.customer_id}: nothing left to erase."
        parts = [f"{name} {n}" for name, n in self.counts.items() if n]
        asked = [
            f"{kind} {', '.join(f'{k} {n}' for k, n in result.items() if n)}"
            for kind, result in self.provider.items()
            if sum(result.values())
        ]
        text = (
            f"Customer #{self.customer_id} erased: {', '.join(parts) or 'nothing in the database'}."
        )
        if asked:
            text += f" Twilio: {'; '.join(asked)}."
        return text


@dataclass
class _ProviderWork:
    messages: set[str] = field(default_factory=set)
    media: set[tuple[str, str]] = field(default_factory=set)
    recordings: set[str] = field(default_factory=set)


def erase_customer(customer: Customer, *, by=None) -> ErasureReport:
    """Erase the customer's personal data; return what was done (see the module docstring)."""
    with transaction.atomic(durable=True):
        merges_serialised()  # nothing moves into or out of this customer meanwhile
        conversation = conversation_for_update(live_customer(customer))
        customer = conversation.customer
        report = ErasureReport(customer_id=customer.pk)
        work = _provider_work(conversation)
        counts = report.counts
        counts["events"] = _erase_events(conversation)
        counts["messages sent"] = _erase_outbox(conversation)
        identities = list(
            Identity.objects.filter(customer=customer).values_list("pk", "kind", "value")
        )
        for erase in plugins.enabled("erasure_hooks"):  # before the identities go
            erase(customer, counts)
        customer_ids = customer_tree(customer.pk)
        counts["admin log lines"] = _erase_admin_log(
            customer_ids, conversation, [pk for pk, _, _ in identities]
        )
        counts["suppression list"] = suppression.suppress_erased(
            Identity.objects.filter(customer=customer).only("kind", "value", "opted_out_at")
        )
        counts["consent records"] = ledger.erase_addresses(customer_ids)
        counts["identities"] = Identity.objects.filter(customer=customer).delete()[0]
        counts["names"] = _erase_customers(customer_ids)
        if any(counts.values()):
            report.erasure = Erasure.objects.create(
                customer=customer, erased_by=by, report={"counts": counts}
            )
            journal.record(
                customer=customer,
                channel=Event.Channel.SYSTEM,
                direction=Event.Direction.INTERNAL,
                kind="erasure",
                body="Personal data erased",
                data={
                    "erased": True,
                    "erasure": report.erasure.pk,
                    "by": getattr(by, "pk", None),
                },
                author=by,
            )
    # After commit, outside the transaction: Twilio's answers take their time.
    report.provider = _ask_twilio_to_delete(work)
    if report.erasure is not None and report.provider:
        report.erasure.report = {"counts": report.counts, "twilio": report.provider}
        report.erasure.save(update_fields=["report"])
    elif report.provider and any(sum(v.values()) for v in report.provider.values()):
        logger.warning("erasure of customer %s asked Twilio for deletions only", customer.pk)
    return report


def _provider_work(conversation: Conversation) -> _ProviderWork:
    work = _ProviderWork()
    rows = (
        Event.objects.filter(conversation=conversation)
        .exclude(data__has_key="erased")
        .values_list("channel", "source_id", "data")
    )
    for channel, source_id, data in rows.iterator(chunk_size=2000):
        # WhatsApp messages are Twilio messages too (SM/MM SIDs), deleted the same way
        if (
            channel in (Event.Channel.SMS, Event.Channel.WHATSAPP)
            and source_id
            and _MESSAGE_SID.match(source_id)
        ):
            work.messages.add(source_id)
        data = data if isinstance(data, dict) else {}
        for item in data.get("media") or []:
            found = _MEDIA_URL.search(str(item.get("url", "")) if isinstance(item, dict) else "")
            if found:
                work.media.add((found.group(1), found.group(2)))
        recording = str(data.get("recording_sid") or "")
        if _RECORDING_SID.match(recording):
            work.recordings.add(recording)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT o.provider_id FROM conversations_outbox o
            JOIN conversations_event e ON e.id = o.event_id
            WHERE e.conversation_id = %s AND o.channel = 'sms' AND o.provider_id <> ''
                AND NOT (e.data ? 'erased')""",
            [conversation.pk],
        )
        work.messages.update(sid for (sid,) in cursor.fetchall() if _MESSAGE_SID.match(sid))
    return work


def _erase_events(conversation: Conversation) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE conversations_event SET
                body = '',
                data = jsonb_build_object('erased', true) || COALESCE(
                    (SELECT jsonb_object_agg(key, value) FROM jsonb_each(data)
                     WHERE key = ANY(%s)), '{{}}'::jsonb),
                source_id = CASE WHEN source_id ~ '{_TWILIO_SID}' THEN source_id END
            WHERE conversation_id = %s AND NOT (data ? 'erased')""",  # noqa: S608 (no input in the SQL)
            [ERASURE_KEEP_KEYS, conversation.pk],
        )
        return cursor.rowcount


def _erase_outbox(conversation: Conversation) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE conversations_outbox o SET body = '', to_address = '', from_address = '',
                media_urls = '[]'::jsonb, last_error = ''
            FROM conversations_event e
            WHERE e.id = o.event_id AND e.conversation_id = %s
                AND (o.body <> '' OR o.to_address <> '' OR o.from_address <> ''
                     OR o.media_urls <> '[]'::jsonb OR o.last_error <> '')""",
            [conversation.pk],
        )
        return cursor.rowcount


def _erase_customers(customer_ids: list[int]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE conversations_customer SET display_name = '', name_source = '',
                traits = '{}'::jsonb, locale = '', time_zone = ''
            WHERE id = ANY(%s) AND (display_name <> '' OR name_source <> ''
                OR traits <> '{}'::jsonb OR locale <> '' OR time_zone <> '')""",
            [customer_ids],
        )
        return cursor.rowcount


def _erase_admin_log(
    customer_ids: list[int], conversation: Conversation, identity_ids: list[int]
) -> int:
    """The admin's history names what it changed (a customer's name, an identity's number)."""
    types = ContentType.objects.get_for_models(Customer, CustomerRecord, Conversation, Identity)
    wanted = {
        types[Customer].pk: customer_ids,
        types[CustomerRecord].pk: customer_ids,
        types[Conversation].pk: [conversation.pk],
        types[Identity].pk: identity_ids,
    }
    changed = 0
    for content_type_id, ids in wanted.items():
        changed += (
            LogEntry.objects.filter(
                content_type_id=content_type_id, object_id__in=[str(pk) for pk in ids]
            )
            .exclude(object_repr="(erased)", change_message="")
            .update(object_repr="(erased)", change_message="")
        )
    return changed


def _ask_twilio_to_delete(work: _ProviderWork) -> dict[str, dict[str, int]]:
    """Media first (a message's media go with it only on some accounts), then messages,
    then recordings. A sid Twilio no longer has counts as missing, not as an error."""
    from channels_adapters.sms.backends import get_backend as sms_backend
    from channels_adapters.voice.backends import get_backend as voice_backend

    results: dict[str, dict[str, int]] = {}
    jobs = [
        ("media", sorted(work.media), lambda pair: sms_backend().delete_media(*pair)),
        ("messages", sorted(work.messages), lambda sid: sms_backend().delete_message(sid)),
        ("recordings", sorted(work.recordings), lambda sid: voice_backend().delete_recording(sid)),
    ]
    for name, items, delete in jobs:
        if not items:
            continue
        tally = {"deleted": 0, "missing": 0, "failed": 0}
        for item in items:
            try:
                tally["deleted" if delete(item) else "missing"] += 1
            except Exception:
                # The database is erased already; the report and the log say what Twilio kept.
                logger.exception("Twilio refused to delete a %s", name)
                tally["failed"] += 1
        results[name] = tally
    return results
