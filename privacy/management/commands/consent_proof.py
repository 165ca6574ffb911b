"""`manage.py consent_proof +14155550132`: the consent ledger of one number or email
(docs/compliance.md, "Proving consent for one number").

Prints every grant and withdrawal with what a dispute needs: when, how (source, channel),
the exact words shown or received and their version, the client's address and user
agent. It finds the ledger of an erased customer too (by the address's keyed hash), and
says when the address is on the suppression list.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from conversations.identities import InvalidIdentity, normalize_identity

from ... import ledger, suppression


class Command(BaseCommand):
    help = "Print the consent ledger (the proof of consent) of one phone number or email."

    def add_arguments(self, parser):
        parser.add_argument("address", help="a phone number (best in E.164) or an email address")

    def handle(self, *args, address: str, **options):
        kind = "email" if "@" in address else "phone"
        try:
            kind, value = normalize_identity(kind, address)
        except InvalidIdentity as exc:
            raise CommandError(str(exc)) from None
        records = ledger.proof_for(kind, value)
        out = self.stdout
        out.write(f"Consent ledger of {value} ({kind}): {len(records)} record(s)")
        if suppression.suppressed(kind, value):
            out.write("On the suppression list: it said stop before its owner was erased.")
        for r in records:
            out.write("")
            out.write(f"{r.occurred_at:%Y-%m-%d %H:%M:%S %Z}  {r.action.upper()}")
            out.write(
                f"  topic: {r.topic or 'every topic'}; channel: {r.channel or 'every channel'}"
            )
            out.write(
                f"  source: {r.source}; customer #{r.customer_id}; event #{r.event_id or '-'}"
            )
            if r.words:
                out.write(f"  words: {r.words}")
            if r.text_version:
                out.write(f"  text version: {r.text_version}")
            if r.ip or r.user_agent:
                out.write(f"  client: {r.ip or '-'}; {r.user_agent or '-'}")
        if not records:
            out.write("No consent on record: marketing texts to this address are not allowed.")
