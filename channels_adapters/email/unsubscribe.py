"""RFC 8058 one-click unsubscribe: `/hooks/email/unsubscribe/<token>/` (docs/email.md).

Each proactive email carries `List-Unsubscribe: <https://.../hooks/email/unsubscribe/<token>/>`
and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. The mail client POSTs
`List-Unsubscribe=One-Click` there: the address the mail went to opts out of email
(`consent.opt_out`, source `email:List-Unsubscribe`, a `consent` event and a ledger line),
as a STOP opts out the number that texted it. A GET (a person following the link, or a
scanner prefetching it) changes nothing: it shows a button that POSTs.

The token is the event id signed with SECRET_KEY: no address in the URL, and nobody can
unsubscribe someone else by guessing.
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt

from conversations import consent
from conversations.models import Event, Identity

from .models import Mail

_SALT = "throughline.email.unsubscribe"
SOURCE = "email:List-Unsubscribe"


def token_for(event_id: int) -> str:
    return signing.Signer(salt=_SALT).sign(str(event_id)).replace(":", ".")


def _event_id(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=_SALT).unsign(token.replace(".", ":")))
    except (signing.BadSignature, ValueError):
        return None


def unsubscribe_address(event_id: int) -> Event | None:
    """Opt out the address the email of this event went to; return the consent event."""
    mail = Mail.objects.filter(event_id=event_id, direction=Mail.Direction.OUT).first()
    if mail is None:
        return None
    identity = Identity.objects.filter(kind=Identity.Kind.EMAIL, value=mail.address).first()
    if identity is None:
        return None
    return consent.opt_out(
        identity,
        source=SOURCE,
        channel=Event.Channel.EMAIL,
        direction=Event.Direction.IN,
        body="Unsubscribed (one-click List-Unsubscribe)",
        proof=consent.Proof(text="List-Unsubscribe=One-Click"),
    )


_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Unsubscribe</title>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">
{content}</body></html>"""


@csrf_exempt  # the signed token in the URL is the proof; RFC 8058 posts without a session
def receive_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    event_id = _event_id(token)
    if event_id is None:
        return HttpResponse(
            "This unsubscribe link is not valid.", status=403, content_type="text/plain"
        )
    if request.method == "POST":
        unsubscribe_address(event_id)
        return HttpResponse(
            _PAGE.format(content="<h1>Unsubscribed</h1><p>We will not email you again.</p>")
        )
    if request.method not in ("GET", "HEAD"):
        return HttpResponse("GET or POST only.", status=405, content_type="text/plain")
    form = (
        f'<h1>Unsubscribe?</h1><form method="post" action="{escape(request.path)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Stop these emails</button></form>'
    )
    return HttpResponse(_PAGE.format(content=form))
