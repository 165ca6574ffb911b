"""Mailgun's inbound webhook: anymail's view, reading a mail without attachments straight
from Mailgun's fully parsed fields.

For the form a `forward()` route posts (`message-headers` as JSON pairs, `body-plain`,
`body-html`), anymail builds an `AnymailInboundMessage` (`construct`): every header goes
through the email package's header registry, one parse each, and inbound.py then
writes that message out again as the MIME it keeps. On a plain reply that was most of the
webhook's time, for headers nobody reads. `ParsedFields` is the same message read from the
fields as posted: the headers as they came (the From alone read as anymail reads it),
the bodies, and the MIME written once (`mime`): the layout `construct` gives
(multipart/mixed > related > alternative > text/plain, text/html, base64 UTF-8) and the
bytes the email package writes for it, the headers as Mailgun posted them
(tests/channels_adapters/email/test_mailgun_fields.py compares the two). A mail with
attachments, or Mailgun's raw MIME (`body-mime`), takes anymail's message as before.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from email import base64mime
from email.headerregistry import HeaderRegistry
from email.policy import default as policy
from typing import NamedTuple

from anymail.utils import parse_address_list  # type: ignore[import-untyped]
from anymail.webhooks.mailgun import (  # type: ignore[import-untyped]
    MailgunInboundWebhookView as AnymailMailgunInboundView,
)

from .gate import BadMail

# What `construct` replaces from the posted headers with its own multipart/mixed.
_REPLACED = {"mime-version", "content-type"}
# The headers a message has at most one of (From, Subject, Message-ID...): `construct`
# refuses a second one. Read once: the registry builds a new class at every lookup.
_REGISTRY = HeaderRegistry()  # the email policy's (`policy.header_factory`)
_UNIQUE = {
    name for name, kind in _REGISTRY.registry.items() if getattr(kind, "max_count", None) == 1
}
_FROM = _REGISTRY["from"]
# A From the registry writes back as it is ("Dana Rivera <dana@gmail.com>", or the bare
# address): nothing to decode, and one address whose parts the match itself gives, as
# `getaddresses` would (the name's spaces collapsed; tests/channels_adapters/email/
# test_mailgun_fields.py compares the two).
_PLAIN_FROM = re.compile(
    r"(?P<name>[\w .'-]*)<(?P<addr>{addr})>|(?P<bare>{addr})".format(
        addr=r"[\w+-]+(?:\.[\w+-]+)*@[\w-]+(?:\.[\w-]+)*"  # dot-atoms: no "..", no dot at an end
    ),
    re.ASCII,
)


class Sender(NamedTuple):
    """The two parts of a From address that inbound.py reads, as anymail's `EmailAddress`
    has them."""

    display_name: str
    addr_spec: str


def boundary() -> str:
    """A boundary that needs no check against the text: 122 random bits cannot be in it by
    chance (the email package draws a random one and searches the text for it)."""
    return f"==============={uuid.uuid4().hex}=="


class MailgunInboundWebhookView(AnymailMailgunInboundView):
    """Anymail's Mailgun inbound view (its checks, its event), the message of a mail
    without attachments read from the fields (`ParsedFields`)."""

    def message_from_mailgun_parsed(self, request):
        if request.POST.get("attachment-count", "0") != "0":
            return super().message_from_mailgun_parsed(request)
        return ParsedFields(request.POST)


class ParsedFields:
    """What inbound.py reads of an `AnymailInboundMessage` (`construct`ed from Mailgun's
    parsed fields), for a mail without attachments."""

    def __init__(self, form):
        self.headers: list[tuple[str, str]] = []
        seen: set[str] = set()
        headers = json.loads(form["message-headers"])
        for name, value in headers.items() if isinstance(headers, dict) else headers:
            # what `construct` refuses (a ValueError there, a 400 either way)
            if not isinstance(name, str) or not isinstance(value, str):
                raise BadMail("message-headers must be pairs of strings.")
            if any(c in name + value for c in "\r\n"):
                raise BadMail("A header in message-headers spans several lines.")
            if (key := name.lower()) in _UNIQUE:
                if key in seen:
                    raise BadMail(f"The message has more than one {name} header.")
                seen.add(key)
            self.headers.append((name, value))
        self.text: str | None = form.get("body-plain")
        self.html: str | None = form.get("body-html")
        # anymail's view sets these, as on its own message
        self.envelope_sender = self.envelope_recipient = None
        self.stripped_text = self.stripped_html = None
        self.spam_detected: bool | None = None
        self.spam_score: float | None = None

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.get_all(name)
        return values[0] if values else default

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)

    def raw_items(self) -> list[tuple[str, str]]:
        return self.headers

    def get_address_header(self, name: str) -> list:
        """As `AnymailInboundMessage.get_address_header("From")`, which reads each value
        through the header registry (RFC 2047 words decoded) before parsing the addresses;
        a plain one is read by its match alone."""
        assert name.lower() == "from", "inbound.py reads the From alone"
        values = self.get_all(name)
        if len(values) == 1 and (plain := _PLAIN_FROM.fullmatch(values[0])):
            if plain["bare"]:
                return [Sender("", plain["bare"])]
            return [Sender(" ".join(plain["name"].split()), plain["addr"])]
        values = [str(_FROM(name, value)) for value in values]
        if not "".join(values).strip():
            return []
        return parse_address_list(values)

    def get_content_type(self) -> str:
        return "multipart/mixed"

    def walk(self) -> Iterator:
        """No part is an attachment (a mail with any is anymail's message)."""
        return iter(())

    def mime(self) -> bytes:
        """The message as `inbound.mime_bytes` writes `construct`'s: the headers as posted,
        then the multipart layout with each body in base64."""
        header = b"".join(
            _header(name, value) for name, value in self.headers if name.lower() not in _REPLACED
        )
        bodies = [
            _part(content_type, body)
            for content_type, body in (("text/plain", self.text), ("text/html", self.html))
            if body is not None
        ]
        alternative = _multipart("alternative", bodies)
        related = _multipart("related", [alternative])
        return header + b"MIME-Version: 1.0\n" + _multipart("mixed", [related])


def _header(name: str, value: str) -> bytes:
    """One header line as the generator writes it: as posted (refolded when too long);
    one with non-ASCII text (Mailgun posts UTF-8) as `construct` stores it, through the
    header registry, its words RFC 2047 encoded."""
    if value.isascii():
        return policy.fold_binary(name, value)
    return _REGISTRY(name, value).fold(policy=policy).encode("ascii")


def _part(content_type: str, body: str) -> bytes:
    encoded = base64mime.body_encode(body.encode("utf-8"))
    return (
        f'MIME-Version: 1.0\nContent-Type: {content_type}; charset="utf-8"\n'
        f"Content-Transfer-Encoding: base64\n\n{encoded}"
    ).encode("ascii")


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    """A multipart/`subtype` part (its headers and body) of `parts`, as the email package
    writes one: the boundary parameter folded onto its own line."""
    mark = boundary().encode("ascii")
    head = b"Content-Type: multipart/" + subtype.encode() + b';\n boundary="' + mark + b'"\n\n'
    if not parts:
        return head + b"--" + mark + b"\n\n--" + mark + b"--\n"
    separator = b"\n--" + mark + b"\n"
    return head + b"--" + mark + b"\n" + separator.join(parts) + b"\n--" + mark + b"--\n"
