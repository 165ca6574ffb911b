"""Email through django-anymail: Postmark, Mailgun or another provider (docs/email.md).

- `inbound.py`: the providers' signed inbound webhooks: a mail into the sender's
  conversation (`record_inbound_email`): the latest reply, safe HTML, MIME, attachments;
- `threads.py`: Message-ID, In-Reply-To and References, both ways, and whose mail a reply is;
- `content.py`: reply without quotes, sanitised HTML, machine mail, sender authentication;
- `outbound.py`: `reply_by_email` (the reply verb) and `deliver` (the outbox's sender);
- `status.py`: tracking webhooks: delivered, bounced, complained, unsubscribed;
- `unsubscribe.py`: RFC 8058 one-click List-Unsubscribe for proactive mail;
- `backends.py`: EMAIL_CHANNEL_BACKEND: anymail's provider backend, console or locmem;
- `gate.py`: anymail's signature checks, answered 403 / 400 / 413 as every webhook here;
- `mailgun.py`: Mailgun's inbound view: a mail without attachments read from its parsed
  fields, not through the email package's message;
- `files.py`, `file_urls.py`: staff downloads of the original MIME and attachments;
- `privacy.py`: export and erasure of the mails; `models.py`: `Mail`, `MailAttachment`;
- `urls.py`: the webhooks; `apps.py`: the app and what it plugs in.
"""
