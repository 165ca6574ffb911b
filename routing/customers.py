"""What routing keeps per customer follows the customer's life: merges and erasure.

- `move_to_survivor` (THROUGHLINE_MERGE_HOOKS, inside the merge transaction): call backs
  and offers made to the merged customer move to the survivor, so the cooldown and the
  sweep see one customer.
- `erase` (PRIVACY_ERASURE_HOOKS): a customer erased has no phone left to call; their
  waiting call backs are cancelled.
"""

from __future__ import annotations

from conversations import merges
from conversations.models import Customer

from .models import ActionTaken, ScheduledCallBack


def move_to_survivor(*, survivor: Customer, merged: Customer) -> None:
    merge = merges.in_progress(survivor, merged)  # provenance: an unmerge moves them back
    merges.move_customer_rows(merge, ScheduledCallBack)
    merges.move_customer_rows(merge, ActionTaken)


def erase(customer: Customer, counts: dict) -> None:
    counts["call backs cancelled"] = ScheduledCallBack.objects.filter(
        customer=customer, status=ScheduledCallBack.Status.SCHEDULED
    ).update(status=ScheduledCallBack.Status.CANCELLED, next_action_at=None)
