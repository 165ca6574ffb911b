"""The original MIME moves from a file in storage into the `Mail` row (ADR 0010).

Each stored file is read into the new column, in batches; a file that is missing is
logged (by row id) and its row keeps an empty original. The files themselves are left in
storage, under `email/original/`: once the upgrade is checked they can be deleted
(docs/email.md, section 6, "Upgrading")."""

import logging

from django.db import migrations, models

logger = logging.getLogger(__name__)
BATCH = 500


def copy_files_into_rows(apps, schema_editor):
    Mail = apps.get_model("email", "Mail")
    last = 0
    while True:
        batch = list(
            Mail.objects.filter(pk__gt=last).exclude(original="").order_by("pk")[:BATCH]
        )
        if not batch:
            return
        for mail in batch:
            try:
                with mail.original.open("rb") as stored:
                    mail.original_mime = stored.read()
            except OSError:
                logger.warning("mail %s: its original MIME file is missing", mail.pk)
                continue
            mail.save(update_fields=["original_mime"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("email", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="mail",
            name="original_mime",
            field=models.BinaryField(blank=True, default=b"", editable=False),
        ),
        migrations.RunPython(copy_files_into_rows, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="mail", name="original"),
        migrations.RenameField(model_name="mail", old_name="original_mime", new_name="original"),
    ]
