"""Rows stored before the edges were strict (issue 14) are repaired or quarantined here.

The work is conversations/repair.py (also `manage.py repair_stored_bounds`): one pass over
each table with a timestamp, in primary-key batches of its own transaction each, so a big
journal keeps taking appends meanwhile (docs/operations.md, "Repairing stored data").
It is idempotent; on a new installation it finds nothing. Reversing leaves the repaired
values: the events keep what was stored in data["quarantine"].
"""

import sys

from django.db import migrations


def repair(apps, schema_editor):
    # The live module, not a frozen copy: it reads the tables' columns from the database's
    # catalogue, so it fits whatever schema it runs on, and it imports no model.
    from conversations.repair import describe, repair_stored_bounds

    repaired = repair_stored_bounds(progress=lambda line: sys.stdout.write(f"\n  {line}"))
    if repaired:
        sys.stdout.write(f"\n  {describe(repaired)}\n")


class Migration(migrations.Migration):
    atomic = False  # each batch commits on its own: no long transaction on the journal

    dependencies = [("conversations", "0008_leaner_event_indexes")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop, elidable=True)]
