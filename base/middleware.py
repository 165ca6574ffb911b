"""A net under every form the site serves: input PostgreSQL cannot store is refused first.

A NUL character in a path, a query or a url-encoded form field would otherwise travel to
the database and fail there with a 500, possibly after other rows of the same request
were written.
Lone surrogates cannot arrive this way: Django decodes forms and queries with replacement.

Views that are CSRF-exempt authenticate by a signature (Twilio), an API key or a visitor
token instead of a cookie, and read their input through typed readers of their own, which
answer in their own format; this net leaves them alone so that, for example, a forged
webhook still gets its 403 before anything is said about its content.
"""

from __future__ import annotations

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
