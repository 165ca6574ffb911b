"""Where the measured metrics (operations/metrics.py) and the request log lines come from.

- `RequestTelemetry`, the outermost middleware: times every HTTP request once, observes
  it in the channel's histogram and writes one log line (base/logs.py).
- `SocketTelemetry`, around the websocket routes (config/asgi.py): counts handshakes,
  open sockets and frames sent, from the ASGI messages alone, so no consumer changes.
- `time_tasks`: Celery's task signals time every task (the sweeps among them).

Each costs a clock read and a few memory writes per request, socket event or task.
"""

from __future__ import annotations

import time

from base import logs
from operations import metrics


class RequestTelemetry:
    """Time the request, observe it, log it. First in MIDDLEWARE, so the time includes
    every other middleware (and a refusal by any of them)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        channel = metrics.channel_of(request.path)
        metrics.observe_request(channel, response.status_code, seconds)
        logs.log_request(request, status=response.status_code, seconds=seconds, channel=channel)
        return response


class SocketTelemetry:
    """ASGI middleware for the websocket routes: what each socket's messages say.

    An "accept" opens a socket; a "close" before it is a refused handshake; every "send"
    is one frame, and a send that raises (the client is gone) a failed one.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        name = metrics.socket_of(scope.get("path", ""))
        state = {"open": False, "answered": False}

        async def observed_send(message):
            kind = message.get("type")
            if kind == "websocket.accept" and not state["answered"]:
                state["answered"] = state["open"] = True
                metrics.SOCKET_CONNECTS.labels(name, "accepted").inc()
                metrics.SOCKETS_OPEN.labels(name).inc()
            elif kind == "websocket.close" and not state["answered"]:
                state["answered"] = True
                metrics.SOCKET_CONNECTS.labels(name, "refused").inc()
            elif kind == "websocket.send":
                try:
                    await send(message)
                except Exception:
                    metrics.SOCKET_SENDS.labels(name, "failed").inc()
                    raise
                metrics.SOCKET_SENDS.labels(name, "sent").inc()
                return
            await send(message)

        try:
            return await self.app(scope, receive, observed_send)
        finally:
            if state["open"]:
                metrics.SOCKETS_OPEN.labels(name).dec()


# ---------------------------------------------------------------------------- Celery tasks

_STARTED: dict[str, float] = {}  # task id -> perf_counter at its start, in this process


def time_tasks() -> None:
    """Time every task this worker runs (called once per worker, config/celery.py)."""
    from celery import signals

    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="throughline-timing")
    signals.task_postrun.connect(_task_ended, weak=False, dispatch_uid="throughline-timing")


def _task_started(task_id=None, **kwargs) -> None:
    _STARTED[task_id] = time.perf_counter()


def _task_ended(task_id=None, task=None, state=None, **kwargs) -> None:
    started = _STARTED.pop(task_id, None)
    if started is None or task is None:
        return
    outcome = "ok" if state == "SUCCESS" else (state or "unknown").lower()
    metrics.TASK_DURATION.labels(task.name, outcome).observe(time.perf_counter() - started)
