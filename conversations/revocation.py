"""Revocation by any reasonable means: is this message a customer saying stop?
(docs/compliance.md, "Revocation").

Since 11 April 2025 (FCC 24-24, 47 C.F.R. § 64.1200(a)(10)) a reply using the words stop,
quit, end, revoke, opt out, cancel or unsubscribe revokes consent, and other wording is
judged on the totality of the circumstances. `classify(text)` answers for every channel
that carries words (SMS, the widget, the IVR's speech):

- DEFINITIVE: the message is a request to stop messages. Opt the sender out at once.
- AMBIGUOUS: it may be one. Marketing stops at once and an agent confirms or dismisses.
- "" (NONE): an ordinary message.

The rule, in order (first match wins):
1. the whole message, less punctuation and politeness ("please", "now", "thanks"), is a
   stop word or phrase: "STOP", "Stop please", "opt-out", "unsubscribe me", "basta";
2. an unmistakable phrase anywhere: "opt out", "unsubscribe", "revoke", "stop texting",
   "don't text me", "no more messages", "leave me alone", "remove me from your list",
   "take me off", and in Spanish "no más mensajes", "déjame en paz", "deja de escribirme",
   "no me escribas", "darme de baja";
3. a stop word (stop, quit, end, cancel, cancelar, parar, para, alto) followed within
   four words by what we send ("text", "message", "reminders", "alerts", "mensajes"...):
   "please stop texting me", "Cancel my reminders", "END these alerts";
4. any other stop word anywhere, or wording that often means "stop" ("not interested",
   "wrong number", "spam", "no me interesa", "número equivocado"): AMBIGUOUS. "Can I
   stop by the store tomorrow?" and "I want to cancel my order" are ambiguous, never
   definitive: an agent's click is cheap next to a missed stop ($500-1,500 a message),
   and neither is an ordinary message we may ignore.

Negations of a stop ("please don't stop", "no, don't cancel") are still AMBIGUOUS: a
person reads them. The patterns are compiled once at import; a message is lower-cased,
stripped of accents and scanned a few times (microseconds: it runs on every inbound SMS).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

DEFINITIVE = "definitive"
AMBIGUOUS = "ambiguous"
NONE = ""

# The FCC's seven words and the carriers' (CTIA) usual keywords, with their Spanish kin.
_STOP_WORDS = r"stop|stopall|quit|end|cancel|revoke|unsubscribe|optout|cancelar|parar|detener"
# Spanish words that mean "stop" only as a whole message ("para" is also "for", "alto" "tall").
_WHOLE_ONLY = r"para|alto|baja|basta|no mas|stop all|opt out|unsubscribe me|opt me out|remove me"
_POLITE = r"please|pls|plz|now|thanks|thank you|thx|ok|okay|por favor|gracias|ya"
_WHOLE = re.compile(rf"^(?:(?:{_POLITE})\s+)*(?:{_STOP_WORDS}|{_WHOLE_ONLY})(?:\s+(?:{_POLITE}))*$")
_PHRASES = re.compile(
    r"\b(?:opt(?:ing)? (?:me )?out|unsubscrib\w*|revok\w*"
    r"|stop (?:texting|messaging|sending|contacting|calling|spamming)"
    r"|(?:do not|dont|don t|never) (?:text|message|sms|contact|call|send)"
    r"|no more (?:texts?|messages?|msgs?|sms|calls|emails?|notifications?|alerts?)"
    r"|leave me alone|remove (?:me|my (?:number|phone|email))(?: from)?"
    r"|take (?:me|my (?:number|phone|email)) off|lose my number"
    r"|no mas (?:mensajes|textos|sms|llamadas|correos|notificaciones)"
    r"|dejame en paz|deja(?:n)? de (?:escribir|enviar|mandar|llamar|molestar)\w*"
    r"|no me (?:escriba|envie|mande|contacte|llame|molest)\w*"
    r"|(?:darme|dame|dar) de baja|no quiero (?:recibir )?(?:mas )?(?:mensajes|textos|sms)"
    r"|para de (?:escribir|enviar|mandar|llamar)\w*)\b"
)
_OBJECTS = (
    r"(?:texts?|texting|txts?|messag\w*|msgs?|sms|notifications?|alerts?|reminders?|"
    r"promos?|promotions?|offers?|marketing|updates|subscriptions?|emails?|calls|spam|"
    r"mensajes|textos|notificaciones|recordatorios|ofertas|promociones|correos)"
)
_WORD_THEN_OBJECT = re.compile(rf"\b(?:{_STOP_WORDS})\b(?:\s+\w+){{0,3}}?\s+{_OBJECTS}\b")
_ANY_STOP_WORD = re.compile(rf"\b(?:{_STOP_WORDS}|opt out|basta|no mas)\b")
_HINTS = re.compile(
    r"\b(?:not interested|wrong number|spam|too many (?:texts|messages)|who is this"
    r"|no me interesa|numero equivocado|no estoy interesad\w)\b"
)
_NOT_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Revocation:
    kind: str  # DEFINITIVE, AMBIGUOUS or NONE
    words: str = ""  # the words that decided it, as the customer wrote them (cut short)

    def __bool__(self) -> bool:
        return self.kind != NONE


def normalise(text: str) -> str:
    """Lower case, no accents, words separated by one space: "¡Déjame en PAZ!" ->
    "dejame en paz"."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = folded.encode("ascii", "ignore").decode()
    return _NOT_WORD.sub(" ", ascii_only.replace("-", "")).strip()


def classify(text: str) -> Revocation:
    """Whether `text` revokes consent: DEFINITIVE, AMBIGUOUS or not at all (the module
    docstring gives the rule)."""
    if not text:
        return Revocation(NONE)
    plain = normalise(text[:2000])
    if not plain:
        return Revocation(NONE)
    if _WHOLE.match(plain):
        return Revocation(DEFINITIVE, plain[:100])
    for pattern in (_PHRASES, _WORD_THEN_OBJECT):
        if found := pattern.search(plain):
            if _negated(plain, found.start()):
                return Revocation(AMBIGUOUS, found.group(0)[:100])
            return Revocation(DEFINITIVE, found.group(0)[:100])
    for pattern in (_ANY_STOP_WORD, _HINTS):
        if found := pattern.search(plain):
            return Revocation(AMBIGUOUS, found.group(0)[:100])
    return Revocation(NONE)


_NEGATIONS = ("dont ", "don t ", "do not ", "never ", "no ", "not ", "didnt ", "didn t ")


def _negated(plain: str, start: int) -> bool:
    """ "please don't stop texting me" negates a stop; "don't text me" is itself one."""
    before = plain[max(0, start - 8) : start]
    return before.endswith(_NEGATIONS) and not plain[start:].startswith(
        ("text", "message", "sms", "contact", "call", "send")
    )
