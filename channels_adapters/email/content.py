"""What an inbound mail says, read for people: the reply without its quoted history and
signature, its HTML made safe, whether a machine sent it, and whether its sender passed
the provider's authentication checks (docs/email.md, "What lands in the timeline").

Pure functions over an `email.message.Message` (anymail's `AnymailInboundMessage`):
nothing here writes.
"""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.message import Message
from functools import cache

import nh3
from mailparser_reply.parser import EmailMessage  # type: ignore[import-untyped]

# The languages whose "On ... wrote:" lines and signatures mail-parser-reply knows.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt", "sv", "pl"]
# Tags an agent may see: text, structure, links (nh3 drops scripts, styles, handlers and
# javascript: links whatever this says).
SAFE_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i",
    "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "u", "ul",
}  # fmt: skip
SAFE_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}}
# RFC 3834 and the de facto headers of auto-responders (Exchange, Gmail vacation, lists)
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|bounces?|no-?reply)([+@]|$)", re.I)
_VERDICT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.I)

TRUST_PASS = "pass"  # noqa: S105 (a verdict, not a password)
TRUST_FAIL = "fail"
TRUST_UNKNOWN = "unknown"


def latest_reply(text: str) -> str:
    """The text the sender wrote this time: quoted history ("On ... wrote:", "> ...",
    Outlook's "From: ... Sent: ..." block) and the signature left out."""
    if not text.strip():
        return ""
    header, disclaimers, signature = _reply_patterns()
    try:
        reply = (
            EmailMessage(
                text=text,
                languages=list(REPLY_LANGUAGES),
                _header_regex=header,
                _disclaimers_regex=disclaimers,
                _signature_regex=signature,
            )
            .read()
            .latest_reply
        )
    except Exception:
        reply = text
    return (reply or text).strip()


@cache
def _reply_patterns():
    """The parser's three patterns for REPLY_LANGUAGES, built once. `EmailReplyParser`
    builds a message that assembles them from the languages' tables and compiles them
    again for every mail: two fifths of reading a reply."""
    message = EmailMessage(text="", languages=list(REPLY_LANGUAGES))
    return message.HEADER_REGEX, message.DISCLAIMERS_REGEX, message.SIGNATURE_REGEX


def safe_html(html: str) -> str:
    """The mail's HTML with nothing that runs or loads: for display, never the raw."""
    return nh3.clean(
        html, tags=SAFE_TAGS, attributes=SAFE_ATTRIBUTES, link_rel="noopener noreferrer nofollow"
    )


def html_text(html: str) -> str:
    """The text of an HTML-only mail (tags dropped), for the timeline and reply parsing."""
    spaced = re.sub(r"(?i)<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", "\n", html)
    text = nh3.clean(spaced, tags=set())
    return re.sub(r"\n{3,}", "\n\n", _unescape(text)).strip()


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


class RawHeaders:
    """A message's headers as received, unfolded, read once: `get` and `get_all` as on a
    Message, without the email policy parsing each header again at every read."""

    def __init__(self, message: Message):
        self._values: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            unfolded = re.sub(r"\r?\n[ \t]+", " ", str(value)).strip()
            self._values.setdefault(name.lower(), []).append(unfolded)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        return self._values.get(name.lower(), [])

    def text(self, name: str) -> str:
        """A header decoded for reading (RFC 2047 encoded words: a subject in UTF-8)."""
        value = self.get(name) or ""
        if "=?" not in value:
            return value
        try:
            return str(make_header(decode_header(value)))
        except (ValueError, LookupError, UnicodeError):
            return value


def automatic(
    message: Message | RawHeaders,
    sender: str,
    *,
    content_type: str = "text/plain",
    provider_flags: tuple[str, ...] = (),
) -> str:
    """Why this mail is not a customer writing ("auto-submitted", "out of office",
    "bounce", "mailing list", "spam"...), or "" when a person wrote it."""
    auto_submitted = (message.get("Auto-Submitted") or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"auto-submitted ({auto_submitted.split(';')[0]})"
    if content_type == "multipart/report" or _DAEMONS.match(sender):
        return "bounce"
    precedence = (message.get("Precedence") or "").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"precedence {precedence}"
    if any(message.get(h) for h in _AUTO_HEADERS):
        return "auto-reply"
    if message.get("List-Id") or message.get("List-Unsubscribe"):
        return "mailing list"
    subject = (message.get("Subject") or "").lower()
    if subject.startswith(("out of office", "automatic reply", "auto:", "autoreply")):
        return "out of office"
    return provider_flags[0] if provider_flags else ""


def sender_trust(message: Message | RawHeaders) -> tuple[str, dict[str, str]]:
    """(pass | fail | unknown, the verdicts read) from the receiving provider's checks.

    The topmost Authentication-Results header is the one the receiving provider added
    (anything below it came with the message and proves nothing); Mailgun also says it in
    X-Mailgun-Spf / X-Mailgun-Dkim-Check-Result, Postmark in Received-SPF. DMARC decides
    when it was checked; else a failed DKIM with a failed SPF is a failure.
    """
    verdicts: dict[str, str] = {}
    results = message.get_all("Authentication-Results") or []
    if results:
        for method, result in _VERDICT.findall(str(results[0])):
            verdicts.setdefault(method.lower(), result.lower())
    if spf := message.get("X-Mailgun-Spf"):
        verdicts.setdefault("spf", str(spf).strip().lower())
    if dkim := message.get("X-Mailgun-Dkim-Check-Result"):
        verdicts.setdefault("dkim", str(dkim).strip().lower())
    received_spf = message.get_all("Received-SPF") or []
    if received_spf and (word := str(received_spf[0]).split(None, 1)):
        verdicts.setdefault("spf", word[0].lower())
    dmarc, dkim, spf = verdicts.get("dmarc"), verdicts.get("dkim"), verdicts.get("spf")
    if dmarc in ("fail", "reject", "quarantine"):
        return TRUST_FAIL, verdicts
    if dmarc == "pass":
        return TRUST_PASS, verdicts
    if dkim == "fail" and spf in ("fail", "softfail", None):
        return TRUST_FAIL, verdicts
    if spf == "fail" and dkim != "pass":
        return TRUST_FAIL, verdicts
    if "pass" in (dkim, spf):
        return TRUST_PASS, verdicts
    return TRUST_UNKNOWN, verdicts
