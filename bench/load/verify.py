"""After a load run: is every event the journeys sent stored exactly once, in order, in one
conversation per shopper? Plain SQL against the journal, over the ledgers the journeys
returned (bench/load/journey.py).

For each shopper:

- one conversation: the customer ids, visitor id and phone number the journey used are
  identities of one and the same customer, a live one (not merged into another);
- exactly once: each marker (an event the journey expects: its `source_id` on its
  channel, or an agent's outbound message by its unique body, or the scan by its
  reference) matches exactly one event in the whole journal;
- in that conversation: the matched event is in that customer's conversation;
- in order: the markers' `seq` increase in the order the journey sent them;
- nothing more: her conversation holds no other event from her or the shop's server
  (inbound, or on the API) than those the journey sent, whatever their `source_id`.

Each broken rule is one finding, named with the shopper's customer id and the step; the
count of findings is `load.lost`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection

from conversations.models import Conversation, Customer, Event, Identity
from instore.models import Scan


@dataclass
class Findings:
    shoppers: int = 0
    markers: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.problems)

    def add(self, ref: str, problem: str) -> None:
        self.problems.append(f"{ref}: {problem}")


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def conversations_of(ledgers: list[dict]) -> dict[tuple[str, str], tuple[int, int | None, int]]:
    """(kind, value) -> (customer, merged_into, conversation) for every identity named."""
    kinds, values = [], []
    for ledger in ledgers:
        for kind, value in _identities(ledger):
            kinds.append(kind)
            values.append(value)
    rows = _rows(
        f"""
        SELECT i.kind, i.value, c.id, c.merged_into_id, v.id
        FROM unnest(%s::text[], %s::text[]) AS wanted(kind, value)
        JOIN {Identity._meta.db_table} i ON (i.kind, i.value) = (wanted.kind, wanted.value)
        JOIN {Customer._meta.db_table} c ON c.id = i.customer_id
        JOIN {Conversation._meta.db_table} v ON v.customer_id = c.id
        """,
        [kinds, values],
    )
    return {(kind, value): (customer, merged, conv) for kind, value, customer, merged, conv in rows}


def _identities(ledger: dict) -> list[tuple[str, str]]:
    named = [("external", ledger["ref"])]
    labels = {m["label"] for m in ledger["markers"]}
    if ledger.get("visitor_id"):
        named.append(("visitor", ledger["visitor_id"]))
    if "sms_in" in labels:  # the phone is hers once her text was answered
        named.append(("phone", ledger["phone"]))
    return named


def events_of(ledgers: list[dict]) -> dict[tuple, list[tuple[int, int]]]:
    """Each marker's key -> [(conversation, seq)] of every event matching it."""
    by_source: tuple[list, list] = ([], [])
    by_body: tuple[list, list] = ([], [])
    references: list[str] = []
    for ledger in ledgers:
        for marker in ledger["markers"]:
            if "source_id" in marker:
                by_source[0].append(marker["channel"])
                by_source[1].append(marker["source_id"])
            elif "body" in marker:
                by_body[0].append(marker["channel"])
                by_body[1].append(marker["body"])
            else:
                references.append(marker["scan_reference"])
    found: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
    events = Event._meta.db_table
    for channel, source_id, conversation, seq in _rows(
        f"""
        SELECT e.channel, e.source_id, e.conversation_id, e.seq
        FROM unnest(%s::text[], %s::text[]) AS wanted(channel, source_id)
        JOIN {events} e ON (e.channel, e.source_id) = (wanted.channel, wanted.source_id)
        """,
        list(by_source),
    ):
        found[("source_id", channel, source_id)].append((conversation, seq))
    for channel, body, conversation, seq in _rows(
        f"""
        SELECT e.channel, e.body, e.conversation_id, e.seq
        FROM unnest(%s::text[], %s::text[]) AS wanted(channel, body)
        JOIN {events} e ON e.channel = wanted.channel AND e.body = wanted.body
        WHERE e.direction = 'out' AND e.kind = 'message'
        """,
        list(by_body),
    ):
        found[("body", channel, body)].append((conversation, seq))
    for reference, conversation, seq in _rows(
        f"""
        SELECT s.reference, e.conversation_id, e.seq
        FROM unnest(%s::text[]) AS wanted(reference)
        JOIN {Scan._meta.db_table} s ON s.reference = wanted.reference
        JOIN {events} e ON e.channel = 'instore' AND e.source_id = s.source_id
        """,
        [references],
    ):
        found[("scan", "instore", reference)].append((conversation, seq))
    return found


def marker_key(marker: dict) -> tuple:
    if "source_id" in marker:
        return ("source_id", marker["channel"], marker["source_id"])
    if "body" in marker:
        return ("body", marker["channel"], marker["body"])
    return ("scan", "instore", marker["scan_reference"])


def verify(ledgers: list[dict]) -> Findings:
    """Check every ledger against the journal; the findings (none when all is well)."""
    findings = Findings(shoppers=len(ledgers))
    holders = conversations_of(ledgers)
    found = events_of(ledgers)
    incoming = incoming_of(ledgers, holders)
    for ledger in ledgers:
        ref = ledger["ref"]
        conversation = _one_conversation(ledger, holders, findings)
        if conversation is not None:
            _nothing_more(ledger, incoming.get(conversation, {}), findings)
        last_seq, last_label = 0, ""
        for marker in ledger["markers"]:
            findings.markers += 1
            label, matches = marker["label"], found.get(marker_key(marker), [])
            if len(matches) != 1:
                findings.add(ref, f"{label} is stored {len(matches)} times, not once")
                continue
            where, seq = matches[0]
            if conversation is not None and where != conversation:
                findings.add(ref, f"{label} is in conversation {where}, not hers ({conversation})")
                continue
            if seq <= last_seq:
                findings.add(ref, f"{label} (seq {seq}) is not after {last_label} (seq {last_seq})")
            last_seq, last_label = seq, label
    return findings


def incoming_of(ledgers: list[dict], holders: dict) -> dict[int, dict[str, int]]:
    """conversation -> channel -> count of its events from the shopper or the shop's
    server (direction `in`, or the API's), for the shoppers' conversations."""
    conversations = sorted({conversation for _, _, conversation in holders.values()})
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for conversation, channel, count in _rows(
        f"""
        SELECT conversation_id, channel, count(*)
        FROM {Event._meta.db_table}
        WHERE conversation_id = ANY(%s) AND (direction = 'in' OR channel = 'api')
        GROUP BY conversation_id, channel
        """,
        [conversations],
    ):
        counts[conversation][channel] = count
    return counts


def _nothing_more(ledger: dict, stored: dict[str, int], findings: Findings) -> None:
    sent: dict[str, int] = defaultdict(int)
    for marker in ledger["markers"]:
        if marker.get("direction") != "out":
            sent[marker["channel"]] += 1
    for channel in sorted(stored):
        if stored[channel] > sent[channel]:
            findings.add(
                ledger["ref"],
                f"{stored[channel]} events from her on {channel}, the journey sent {sent[channel]}",
            )


def _one_conversation(ledger: dict, holders: dict, findings: Findings) -> int | None:
    """The shopper's one conversation, or None (and a finding) when there is not one."""
    ref = ledger["ref"]
    held = {}
    for kind, value in _identities(ledger):
        if (kind, value) not in holders:
            findings.add(ref, f"no customer has the {kind} identity of the journey")
            continue
        held[kind] = holders[(kind, value)]
    customers = {customer for customer, _, _ in held.values()}
    if len(customers) > 1:
        shown = ", ".join(f"{kind} -> customer {held[kind][0]}" for kind in sorted(held))
        findings.add(ref, f"split over {len(customers)} customers ({shown})")
        return None
    if not held:
        return None
    customer, merged_into, conversation = next(iter(held.values()))
    if merged_into is not None:
        findings.add(ref, f"her identities stay on customer {customer}, merged into {merged_into}")
        return None
    return conversation
