"""Missed call: the call-back offer made when missed calls make a case hot. One offer per
missed call that triggers it.

The voice adapter sees the calls (channels_adapters/voice/missed.py) and calls every
`missed_call_hooks` plug in the transaction that recorded the missed call; engagement
declares `offer_call_back` as one, so voice never imports engagement.
"""

from __future__ import annotations

from datetime import timedelta

from conversations.models import Event

from ..models import Nudge
from . import Defaults, Rule

STEP_1 = (
    "Sorry we missed your call{% if first_name %}, {{ first_name }}{% endif %}. We'll call "
    "you back shortly, or pick a time that suits you: {{ links.callback }}"
)


class MissedCall(Rule):
    slug = "missed_call"
    topic = "service_followups"
    responsive = True  # she just called us: it is an answer, day or night
    worth_sending = timedelta(hours=24)  # a call-back offer a day late is no answer
    defaults = Defaults(priority=50, steps=((0, STEP_1),))

    def offer_call_back(self, missed: Event, *, phone: str = "") -> Nudge | None:
        """Propose the call-back offer for this `missed_call` event, decided at once; None
        when the rule is off. `phone`: the number that called, texted first."""
        config = self.config()
        if not config.enabled:
            return None
        return self.propose_step(
            config,
            missed.conversation.customer,
            step=1,
            dedupe_key=f"{self.slug}:{missed.pk}",
            data={
                **({"to": phone} if phone else {}),
                "missed_call": missed.pk,
                "proposal": "call_back_offer",
            },
        )


RULE = MissedCall()
offer_call_back = RULE.offer_call_back
