"""THROUGHLINE_MERGE_HOOKS: a merged customer's nudges and watches move to the survivor,
so caps, attribution and sequences follow the person, not the record."""

from conversations import merges
from conversations.models import Customer

from .models import Nudge, Watch


def move_to_survivor(survivor: Customer, merged: Customer) -> None:
    merge = merges.in_progress(survivor, merged)  # provenance: an unmerge moves them back
    merges.move_customer_rows(merge, Nudge)
    merges.move_customer_rows(merge, Watch)
