"""Customer.name_source: where the customer's name came from (conversations/names.py).

A column with a constant default (in the database too, for raw inserts): PostgreSQL adds
it without rewriting or scanning the table.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0013_merge_provenance"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="name_source",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
    ]
