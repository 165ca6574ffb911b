"""THROUGHLINE_MERGE_HOOKS: a merged customer's nudges and watches move to the survivor,
so caps, attribution and sequences follow the person, not the record."""

from conversations.models import Customer

from .models import Nudge, Watch


def move_to_survivor(survivor: Customer, merged: Customer) -> None:
    Nudge.objects.filter(customer=merged).update(customer=survivor)
    Watch.objects.filter(customer=merged).update(customer=survivor)
