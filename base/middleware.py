"""A net under every form and socket the site serves: input PostgreSQL cannot store is
refused first.

A NUL character in a path, a query or a url-encoded form field would otherwise travel to
the database and fail there with a 500, possibly after other rows of the same request
were written.
Lone surrogates cannot arrive this way: Django decodes forms and queries with replacement.

Views that are CSRF-exempt authenticate by a signature (Twilio), an API key or a visitor
token instead of a cookie, and read their input through typed readers of their own, which
answer in their own format; this net leaves them alone so that, for example, a forged
webhook still gets its 403 before anything is said about its content.

`RefuseUnstorableSocket` is the same net for websockets (config/asgi.py): a NUL in a
socket's path or query (`?site=%00`) is refused at the handshake (403), before a consumer
looks a site or a visitor up by it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

from channels.security.websocket import WebsocketDenier
from django.http import HttpRequest, HttpResponseBadRequest

from base.inputs import unstorable


class RefuseUnstorableInput:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view, args, kwargs):
        if getattr(view, "csrf_exempt", False):
            return None
        for where, text in _texts(request):
            problem = unstorable(text)
            if problem:
                return HttpResponseBadRequest(
                    f"The {where} {problem}, which cannot be stored.\n", content_type="text/plain"
                )
        return None


def _texts(request: HttpRequest):
    yield "path", request.path
    for name, values in request.GET.lists():
        yield "query", name
        for value in values:
            yield f"query field {name[:40]!r}", value
    # Only url-encoded forms, which Django reads whole anyway: parsing a multipart body
    # here would consume the upload stream before the view could read it.
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        for name, values in request.POST.lists():
            yield "form", name
            for value in values:
                yield f"form field {name[:40]!r}", value


class RefuseUnstorableSocket:
    """ASGI middleware: deny a websocket whose path or query holds text that cannot be stored."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and any(map(unstorable, _socket_texts(scope))):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


def _socket_texts(scope):
    yield unquote(scope.get("path", ""))
    # as the consumers read it (parse_qs: %-escapes as UTF-8, invalid bytes replaced)
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), True):
        yield name
        yield value
