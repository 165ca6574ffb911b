"""What the email channel holds about a person, for privacy's export and erasure
(docs/privacy.md). Declared on the AppConfig as `export_hooks` and `erasure_hooks`.

The events themselves are privacy's (bodies emptied, `data` trimmed); here are the `Mail`
rows beside them: the addresses, subjects and Message-IDs, the original MIME (in the
row) and the attachments in storage. The erasure deletes the rows and, after commit, the
attachments' files.
"""

from __future__ import annotations

from django.db import transaction

from conversations.models import Customer

from .models import Mail, MailAttachment


def _mails(customer: Customer):
    return Mail.objects.filter(event__conversation__customer=customer)


def export(customer: Customer) -> dict[str, list]:
    mails = _mails(customer).order_by("event__seq")
    return {
        "emails": [
            {
                "event": m.event_id,
                "direction": m.direction,
                "address": m.address,
                "subject": m.subject,
                "message_id": m.message_id,
                "attachments": [
                    {"filename": a.filename, "content_type": a.content_type, "size": a.size}
                    for a in m.attachments.all()
                ],
            }
            for m in mails.prefetch_related("attachments")
        ]
    }


def erase(customer: Customer, counts: dict[str, int]) -> None:
    mails = _mails(customer)
    files = [a.file for a in MailAttachment.objects.filter(mail__in=mails)]
    storages = [(f.storage, f.name) for f in files]
    counts["emails"] = mails.delete()[0]

    def delete_files() -> None:
        for storage, name in storages:
            storage.delete(name)

    transaction.on_commit(delete_files)
