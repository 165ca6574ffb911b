"""The shopper socket `/ws/widget/?site=<public key>&token=<visitor token>&after_seq=<cursor>`.

Authenticates (the signed visitor token and the site, from an allowed origin), joins its
own conversation's group only, forwards what the shopper may see, and hands shopper
messages to `inbound.receive_message`. docs/widget.md describes the protocol:

client -> server
    {"type": "message", "id": "<client message id>", "body": "..."}   -> "ack" (idempotent)
    {"type": "typing", "typing": true}
    {"type": "delivered" | "read", "seq": 12}    our web messages up to seq were shown
    {"type": "offer_answer", "offer": 7, "choice": "call_now" | "schedule"}
server -> client
    {"type": "ready", "cursor": 40}              after the replay of what was missed
    {"type": "message", "message": {...}, "cursor": 41}
    {"type": "ack", "id": "...", "message": {...}}
    {"type": "typing", "typing": true}           an agent is typing
    {"type": "status", "seq": 12, "delivery_status": "read"}
    {"type": "preferences", "url": "..."}        the shopper's preference page, once the
                                                 first message made them a customer
    {"type": "reset"}                            histories merged: drop what you show, a
                                                 replay from the start follows
    {"type": "offer", "offer": {"id": 7, "body": "...", "actions": [...]}}   a pop-up (offers.py)
    {"type": "offer_result", "offer": 7, "ok": true, "message": "..."}
    {"type": "error", "code": "...", "error": "..."}

An anonymous visitor (no customer yet, docs/widget.md) is let in with no conversation:
the socket joins the visitor's own group, and its first message makes the customer
(`inbound.receive_message`), after which every socket of the visitor joins the new
conversation. Connections and messages also count against the client address's limits
(ADDRESS_RATE_LIMITS "socket" and "message"), besides each socket's own token bucket.

Resume without loss or repeats: the `cursor` is the highest seq up to which every event
has been handled (shown, or not visible to the shopper), so a reconnect with
`after_seq=cursor` replays exactly what may be missing; the widget drops a seq it
already shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.db import IntegrityError

from base import limits
from base.inputs import read_json, unstorable
from base.sockets import JsonSocketConsumer
from conversations import links
from conversations.models import Conversation
from conversations.visitors import InvalidVisitorToken, read_visitor_token

from . import backends, history, inbound, offers, status
from .models import Site
from .origins import origin_allowed
from .throttle import TokenBucket

MAX_FRAME_BYTES = 8 * 1024
FLOOD_RATE = 3.0  # frames per second, sustained: a person typing sends far fewer
FLOOD_BURST = 20
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_SITE = 4404
CLOSE_BAD_TOKEN = 4401
CLOSE_RATE_LIMITED = 4429


def _address(scope) -> str:
    """The client address (base.limits.client_address): the peer, or what the
    trusted proxies say it is."""
    peer = (scope.get("client") or ("",))[0] or ""
    return limits.client_address(peer, _header(scope, b"x-forwarded-for"))


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _query(scope) -> dict[str, str]:
    parsed = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return {key: values[0] for key, values in parsed.items() if values}


@database_sync_to_async
def _authenticate(site_key: str, token: str, origin: str, host: str):
    site = Site.objects.filter(public_key=site_key).first() if site_key else None
    if site is None:
        return None, CLOSE_UNKNOWN_SITE
    if not origin_allowed(site, origin, own_host=host):
        return None, CLOSE_FORBIDDEN
    try:
        visitor_id = read_visitor_token(token)
    except InvalidVisitorToken:
        return None, CLOSE_BAD_TOKEN
    customer = inbound.known_customer(visitor_id)  # None while anonymous: nothing is made
    conversation_id = customer.conversation.pk if customer is not None else None
    return (site, visitor_id, conversation_id), None


def _preferences_url(conversation_id: int) -> str:
    """The shopper's preference page, for a socket whose visitor just became a customer."""
    customer = Conversation.objects.select_related("customer").get(pk=conversation_id).customer
    return links.url_for(customer, "preferences")


@database_sync_to_async
def _conversation_of(customer) -> int:
    return Conversation.objects.values_list("pk", flat=True).get(customer=customer)


@database_sync_to_async
def _over_limit(bucket: str, address: str) -> int | None:
    return limits.address_retry_after(bucket, address)


class WidgetConsumer(JsonSocketConsumer):
    def __init__(self, *args, clock: Callable[[], float] = time.monotonic, **kwargs):
        # The flood throttle's time source; tests pass their own with as_asgi(clock=...).
        super().__init__(*args, **kwargs)
        self.clock = clock

    async def connect(self):
        self.address = _address(self.scope)
        if await _over_limit("socket", self.address) is not None:
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        query = _query(self.scope)
        found, refusal = await _authenticate(
            query.get("site", ""),
            query.get("token", ""),
            _header(self.scope, b"origin"),
            _header(self.scope, b"host"),
        )
        if found is None:
            await self.close(code=refusal)
            return
        self.site, self.visitor_id, self.conversation_id = found
        try:
            after_seq = max(0, int(query.get("after_seq", "0")))
        except ValueError:
            after_seq = 0
        self.bucket = TokenBucket(rate=FLOOD_RATE, burst=FLOOD_BURST, clock=self.clock)
        self.throttled = False
        await self.accept()
        if self.conversation_id is None:
            # anonymous: nothing to replay; told by the visitor's group when a conversation
            # is made (by this socket's first message, another tab, or an HTTP call)
            self.cursor, self.ahead = 0, set()
            await backends.join_visitor(self.channel_layer, self.channel_name, self.visitor_id)
            await self.send_json({"type": "ready", "cursor": 0})
            # made between the check and joining the group: that notice was missed
            customer = await database_sync_to_async(inbound.known_customer)(self.visitor_id)
            if customer is not None:
                await self._conversation_made(await _conversation_of(customer))
            return
        await self._join(after_seq)
        # after joining, so an offer this triggers arrives on this socket
        await database_sync_to_async(offers.announce_presence)(self.conversation_id)

    async def _join(self, after_seq: int, *, reset: bool = False):
        """Join the group, then replay from the database: an event committed in between
        arrives both ways and the cursor drops the second copy, so nothing falls between."""
        self.cursor = after_seq
        self.ahead: set[int] = set()  # seqs above the cursor already handled
        await backends.join_conversation(
            self.channel_layer, self.channel_name, self.conversation_id
        )
        messages, cursor, renumbered = await database_sync_to_async(history.visible_history)(
            self.conversation_id, after_seq=after_seq
        )
        if renumbered:
            self.cursor = 0
        if reset or renumbered:
            await self.send_json({"type": "reset"})
        for message in messages:
            await self._send_message(message)
        self._advance_to(cursor)
        await self.send_json({"type": "ready", "cursor": self.cursor})

    async def _conversation_made(self, conversation_id: int):
        """The visitor became a customer: leave the visitor's group, join the conversation
        and replay it (from the start: this socket has shown nothing of it)."""
        if self.conversation_id is not None:
            return  # joined already (this socket's own message got here first)
        self.conversation_id = conversation_id
        await backends.leave_visitor(self.channel_layer, self.channel_name, self.visitor_id)
        await self._join(0)
        url = await database_sync_to_async(_preferences_url)(conversation_id)
        await self.send_json({"type": "preferences", "url": url})
        await database_sync_to_async(offers.announce_presence)(self.conversation_id)

    async def disconnect(self, code):
        if getattr(self, "conversation_id", None) is not None:
            await backends.leave_conversation(
                self.channel_layer, self.channel_name, self.conversation_id
            )
        elif hasattr(self, "visitor_id"):
            await backends.leave_visitor(self.channel_layer, self.channel_name, self.visitor_id)

    # ---------------------------------------------------------------- from the shopper

    async def receive(self, text_data=None, bytes_data=None):
        if not self.bucket.take():
            if not self.throttled:  # one error per flood, not one per dropped frame
                self.throttled = True
                await self._error(
                    "rate_limited",
                    f"Too many messages; slow down (retry in {self.bucket.retry_after():.1f} s).",
                )
            return
        self.throttled = False
        if bytes_data is not None or text_data is None:
            await self._error("malformed", "Send JSON text frames.")
            return
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            await self._error("too_large", f"A frame may be at most {MAX_FRAME_BYTES} bytes.")
            return
        try:
            content = read_json(text_data)
        except ValueError as exc:
            await self._error("malformed", f"The frame is {exc}.")
            return
        if not isinstance(content, dict):
            await self._error("malformed", "The frame must be a JSON object.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "message":
            await self._message(content)
        elif kind == "typing":
            if self.conversation_id is None:
                return  # anonymous: no agent to tell
            await backends.shopper_typing(
                self.channel_layer, self.conversation_id, bool(content.get("typing"))
            )
        elif kind in status.MARKS:
            seq = content.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
                await self._error("malformed", f"{kind} needs a positive integer seq.")
                return
            if self.conversation_id is None:
                return  # anonymous: none of our messages to mark
            await database_sync_to_async(status.mark_web_messages)(
                conversation_id=self.conversation_id, up_to_seq=seq, status=kind
            )
        elif kind == "offer_answer":
            await self._offer_answer(content)
        else:
            await self._error("malformed", "Unknown type; use message, typing, delivered or read.")

    async def _offer_answer(self, content):
        offer, choice = content.get("offer"), content.get("choice")
        if not isinstance(offer, int) or isinstance(offer, bool) or choice not in offers.CHOICES:
            await self._error(
                "malformed", "offer_answer needs an offer id and a choice: call_now or schedule."
            )
            return
        if self.conversation_id is None:  # anonymous: no offer was ever made to them
            result = {"ok": False, "message": "This offer is no longer available."}
        else:
            result = await database_sync_to_async(offers.answer)(
                conversation_id=self.conversation_id, offer=offer, choice=choice
            )
        await self.send_json(
            {
                "type": "offer_result",
                "offer": offer,
                "ok": bool(result.get("ok")),
                "message": str(result.get("message", "")),
            }
        )

    async def _message(self, content):
        client_id, body = content.get("id"), content.get("body")
        if not (isinstance(client_id, str) and 0 < len(client_id) <= inbound.MAX_CLIENT_ID_CHARS):
            await self._error(
                "malformed",
                f"message needs an id of 1 to {inbound.MAX_CLIENT_ID_CHARS} characters.",
            )
            return
        if not isinstance(body, str) or not body.strip():
            await self._error("malformed", "message needs a non-empty body.", id=client_id)
            return
        if problem := unstorable(client_id + body):
            await self._error("malformed", f"The message {problem}.", id=client_id)
            return
        if len(body) > inbound.MAX_BODY_CHARS:
            await self._error(
                "too_large",
                f"A message may be at most {inbound.MAX_BODY_CHARS} characters.",
                id=client_id,
            )
            return
        wait = await _over_limit("message", self.address)
        if wait is not None:
            await self._error(
                "rate_limited",
                f"Too many messages from your network; try again in {wait} seconds.",
                id=client_id,
            )
            return
        try:
            event = await database_sync_to_async(inbound.receive_message)(
                visitor_id=self.visitor_id, client_id=client_id, body=body.strip()
            )
        except IntegrityError:
            await self._error("retry", "Could not store the message; send it again.", id=client_id)
            return
        payload = history.widget_payload(
            history.event_to_payload(event), visitor_id=self.visitor_id
        )
        await self.send_json({"type": "ack", "id": client_id, "message": payload})
        if self.conversation_id is None:  # the first message made the customer
            await self._conversation_made(event.conversation_id)

    async def _error(self, code: str, error: str, **extra):
        await self.send_json({"type": "error", "code": code, "error": error, **extra})

    # ---------------------------------------------------------------- to the shopper

    def _advance_to(self, seq: int) -> None:
        if seq > self.cursor:
            self.cursor = seq
            self.ahead = {s for s in self.ahead if s > seq}
        while self.cursor + 1 in self.ahead:
            self.cursor += 1
            self.ahead.discard(self.cursor)

    async def _send_message(self, payload: dict):
        await self.send_json(
            {
                "type": "message",
                "message": history.widget_payload(payload, visitor_id=self.visitor_id),
                "cursor": self.cursor,
            }
        )

    # group message handlers: every type sent to `conv.<id>` needs one, or the socket dies
    async def journal_event(self, message):
        event = message["event"]
        seq = event["seq"]
        if event["conversation"] != self.conversation_id or seq <= self.cursor or seq in self.ahead:
            return  # already replayed, or a repeat
        self.ahead.add(seq)
        self._advance_to(self.cursor)
        if history.is_visible(event):
            await self._send_message(event)
        elif offers.is_offer(event):
            await self.send_json({"type": "offer", "offer": offers.offer_frame(event)})

    async def event_status(self, message):
        event = message["event"]
        if event["conversation"] == self.conversation_id:
            await self.send_json(
                {"type": "status", "seq": event["seq"], "delivery_status": event["delivery_status"]}
            )

    async def conversation_resync(self, message):
        # A merge moved or renumbered this conversation: follow it and replay from the start.
        await backends.leave_conversation(
            self.channel_layer, self.channel_name, self.conversation_id
        )
        self.conversation_id = message["moved_to"]
        await self._join(0, reset=True)

    async def visitor_customer(self, message):
        await self._conversation_made(message["conversation"])

    async def agent_typing(self, message):
        if message["conversation"] == self.conversation_id:
            await self.send_json({"type": "typing", "typing": bool(message["typing"])})

    async def widget_typing(self, message):
        pass  # the shopper's own typing (maybe from another tab): only agents want it

    async def inbox_update(self, message):
        pass  # not in the inbox group; here for safety should one arrive
