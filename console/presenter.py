"""The timeline as an agent reads it: one line per visit of the shop's pages.

The journal keeps every page and product view as its own event (the shop's tracking
sends both a `page_viewed` and a `product_viewed` for one product page, and a visit is
a dozen pages). Read one by one they bury what the customer said. `present(payloads)`
turns the timeline's payloads (the shape `conversations.broadcast.event_payload` gives,
oldest first) into lines: each run of consecutive browsing events of one visit becomes
one `visit` line, the rest pass through unchanged. The journal itself is untouched;
this is presentation only.

A visit is a run of `page_view` / `product_view` events with no other event between
them and no gap longer than VISIT_GAP (web analytics' session rule). A product page seen
as a page view and as a product view at the same address, or the same product twice, is
one stop; the line names the stops in order, the products first-class:

    Browsed 3 pages: T900 treadmill (product), Delivery & returns, B200 bike (product)

`same_visit(previous, payload)` says whether a live event extends the line before it
(the console's script asks it of the socket's events through the same rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

BROWSING_KINDS = frozenset({"page_view", "product_view"})
VISIT_GAP = timedelta(minutes=30)
MAX_NAMED_STOPS = 5  # names in the line; the rest are counted ("and 4 more")


def present(payloads: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The timeline's lines: browsing runs folded into `visit` lines, oldest first."""
    lines: list[dict[str, Any]] = []
    run: list[dict[str, Any]] = []
    for payload in payloads:
        if run and not same_visit(run[-1], payload):
            lines.append(_line(run))
            run = []
        if payload.get("kind") in BROWSING_KINDS:
            run.append(payload)
        else:
            lines.append(payload)
    if run:
        lines.append(_line(run))
    return lines


def same_visit(previous: dict[str, Any], payload: dict[str, Any]) -> bool:
    """Whether `payload` continues the visit `previous` belongs to (both browsing, close
    enough in time)."""
    if previous.get("kind") not in BROWSING_KINDS | {"visit"}:
        return False
    if payload.get("kind") not in BROWSING_KINDS:
        return False
    before = _when(previous.get("data", {}).get("ended_at") or previous.get("occurred_at"))
    now = _when(payload.get("occurred_at"))
    return before is not None and now is not None and timedelta(0) <= now - before <= VISIT_GAP


def stops(run: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The visit's distinct stops in order: a product view names the stop (and its sku)
    even when the page view of the same address came first."""
    found: list[dict[str, Any]] = []
    by_key: dict[str, dict[str, Any]] = {}
    for payload in run:
        data = payload.get("data") or {}
        is_product = payload.get("kind") == "product_view"
        url = str(data.get("url") or "")
        name = str(data.get("name") or "") if is_product else str(data.get("title") or "")
        keys = [k for k in (url and f"url:{url}", is_product and f"sku:{data.get('sku')}") if k]
        if not keys:
            keys = [f"name:{name}"]
        stop = next((by_key[k] for k in keys if k in by_key), None)
        if stop is None:
            stop = {"name": name or url, "url": url, "sku": "", "product": False}
            found.append(stop)
        if is_product:
            stop.update(name=name or stop["name"], sku=str(data.get("sku") or ""), product=True)
        for key in keys:
            by_key[key] = stop
    return found


def _line(run: list[dict[str, Any]]) -> dict[str, Any]:
    if len(run) == 1 and run[0].get("kind") == "page_view":
        return run[0]  # one page is its own line: nothing to fold
    visited = stops(run)
    names = [f"{s['name']} (product)" if s["product"] else s["name"] for s in visited]
    shown = ", ".join(names[:MAX_NAMED_STOPS])
    if len(names) > MAX_NAMED_STOPS:
        shown += f" and {len(names) - MAX_NAMED_STOPS} more"
    pages = f"{len(visited)} page{'s' if len(visited) != 1 else ''}"
    first, last = run[0], run[-1]
    return {
        **last,  # the live fields (conversation, case, channel) of the latest view
        "id": first.get("id"),
        "seq": last.get("seq"),
        "kind": "visit",
        "direction": "internal",
        "body": f"Browsed {pages}: {shown}",
        "occurred_at": first.get("occurred_at"),
        "data": {
            "stops": visited,
            "events": [p.get("id") for p in run],
            "seqs": [p.get("seq") for p in run],
            "started_at": first.get("occurred_at"),
            "ended_at": last.get("occurred_at"),
        },
    }


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
