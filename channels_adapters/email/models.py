"""What an email adds to its journal event: the Message-ID that threads it, the original
MIME (in the row) and the attachments (in Django's storage) (docs/email.md).

`Mail` is one email in or out, one-to-one with its `message` (or `auto_reply`) event.
Its `message_id` is the RFC 5322 Message-ID without angle brackets, unique: an inbound
reply names it in In-Reply-To / References, which is how the reply finds the message it
answers (threading.py). `address` is the customer's side of it (the sender of an inbound
mail, the recipient of an outbound one), kept so a reply from another address is never
taken for the same person on the headers alone.
"""

from django.db import models
from django.utils import timezone

from conversations.models import Event


class Mail(models.Model):
    class Direction(models.TextChoices):
        IN = "in"
        OUT = "out"

    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="mail")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    message_id = models.CharField(max_length=255, unique=True)
    address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.JSONField(default=list, blank=True)
    # The message as received (inbound only), served to staff with permission only. In the
    # row, not in storage: written by the journal's one statement with the event, gone with
    # the row, and no file to create per mail (a third of the webhook's cost: ADR 0010).
    original = models.BinaryField(blank=True, default=b"", editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        permissions = [("download_mail", "Can download original emails and their attachments")]

    def __str__(self) -> str:
        return f"Mail #{self.pk} ({self.direction})"


class MailAttachment(models.Model):
    """One attachment of an inbound mail, kept in Django's storage (size and type checked)."""

    mail = models.ForeignKey(Mail, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="email/attachments/%Y/%m/", max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.filename
