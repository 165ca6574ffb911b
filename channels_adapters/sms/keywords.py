"""The SMS keywords carriers and Twilio give meaning to: STOP, START and HELP; and a
stop said in other words (docs/twilio.md, "Opting out").

Twilio's default opt-out handling answers these itself and blocks a number after STOP;
we record them so the timeline and our own sends agree with Twilio. With Advanced
Opt-Out, Twilio tells us what it matched (`OptOutType`), including the shop's own
keywords, and that wins. A message that is no keyword goes through `revocation`: "please
stop texting me" or "no más mensajes" revoke consent too (FCC 24-24), and Twilio does not
see them, so we opt the number out and send the one confirmation ourselves.
"""

from __future__ import annotations

import string

from conversations import revocation as revocations

STOP = "STOP"
START = "START"
HELP = "HELP"

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
_BY_OPT_OUT_TYPE = {"STOP": STOP, "START": START, "HELP": HELP}


def classify(body: str, opt_out_type: str = "") -> str:
    """STOP, START, HELP or "" for an ordinary message.

    A keyword is the whole message, any case, with surrounding spaces and punctuation
    ignored ("Stop." counts; "please don't stop" does not): when in doubt on an opt-out,
    the cost of a missed STOP is far higher than that of a needless one.
    """
    if opt_out_type:
        return _BY_OPT_OUT_TYPE.get(opt_out_type.strip().upper(), "")
    word = spoken_word(body)
    if word in OPT_OUT_WORDS:
        return STOP
    if word in OPT_IN_WORDS:
        return START
    if word in HELP_WORDS:
        return HELP
    return ""


def revocation(body: str, opt_out_type: str = "") -> revocations.Revocation:
    """For a message that is no keyword: whether it revokes consent in other words
    (conversations/revocation.py). Twilio's `OptOutType` settles a message it matched."""
    if opt_out_type or classify(body):
        return revocations.Revocation(revocations.NONE)
    return revocations.classify(body)


def revocation_confirmation() -> str:
    """The one text allowed after a stop in words: no marketing, no link, nothing else."""
    from django.conf import settings

    return settings.CONSENT_REVOCATION_CONFIRMATION


def help_reply(customer) -> str:
    """The answer to HELP: SMS_HELP_TEXT and the link to the customer's preference page,
    where they choose what we text them (docs/privacy.md); "" when there is no help text."""
    from django.conf import settings

    from conversations.links import url_for

    if not settings.SMS_HELP_TEXT:
        return ""
    return f"{settings.SMS_HELP_TEXT} Choose what we send you: {url_for(customer, 'preferences')}"


def spoken_word(body: str) -> str:
    """The message as a keyword candidate: "  Stop. " -> "STOP"."""
    return body.strip().strip(string.punctuation + " ").upper()
