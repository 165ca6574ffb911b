"""Identities of kind whatsapp, short_code and alphanumeric, and the whatsapp channel
(issue 14: Twilio senders that are not phone numbers are recorded as what they are).

Choices only: the columns are unchanged, so this runs no SQL.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("conversations", "0009_repair_stored_bounds")]

    operations = [
        migrations.AlterField(
            model_name="event",
            name="channel",
            field=models.CharField(
                choices=[
                    ("web", "Web"),
                    ("sms", "Sms"),
                    ("whatsapp", "WhatsApp"),
                    ("voice", "Voice"),
                    ("instore", "Instore"),
                    ("api", "Api"),
                    ("system", "System"),
                    ("agent", "Agent"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="identity",
            name="kind",
            field=models.CharField(
                choices=[
                    ("phone", "Phone"),
                    ("email", "Email"),
                    ("visitor", "Visitor"),
                    ("external", "External"),
                    ("whatsapp", "WhatsApp"),
                    ("short_code", "Short code"),
                    ("alphanumeric", "Alphanumeric"),
                ],
                max_length=16,
            ),
        ),
    ]
