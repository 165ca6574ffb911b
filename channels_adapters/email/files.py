"""Downloads for staff: an inbound mail's original MIME and its attachments.

`/email/<mail id>/original.eml` and `/email/attachment/<id>/`: staff with the
`email.download_mail` permission only (others: the login page, or 403), always as a
download (`Content-Disposition: attachment`, `X-Content-Type-Options: nosniff`), so
nothing a customer sent is ever rendered by the console's browser.
"""

from __future__ import annotations

import io

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404, HttpRequest

from .models import Mail, MailAttachment

PERMISSION = "email.download_mail"


def _download(opened, filename: str, content_type: str) -> FileResponse:
    response = FileResponse(
        opened, as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_member_required
@permission_required(PERMISSION, raise_exception=True)
def original(request: HttpRequest, pk: int) -> FileResponse:
    mail = Mail.objects.filter(pk=pk).first()
    if mail is None:
        raise Http404("No such mail.")
    if not mail.original:
        raise Http404("Nothing stored.")
    return _download(io.BytesIO(mail.original), f"mail-{mail.pk}.eml", "message/rfc822")


@staff_member_required
@permission_required(PERMISSION, raise_exception=True)
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    row = MailAttachment.objects.filter(pk=pk).first()
    if row is None:
        raise Http404("No such attachment.")
    if not row.file:
        raise Http404("Nothing stored.")
    return _download(row.file.open("rb"), row.filename, "application/octet-stream")
