"""Rows stored before the edges were strict (issue 14) are repaired or quarantined here.

Placeholder: filled in by the repair work (conversations/repair.py).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("conversations", "0008_leaner_event_indexes")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
