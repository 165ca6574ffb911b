"""Celery tasks of the voice adapter: each takes an id, loads, calls one verb."""

from celery import shared_task

from . import missed


@shared_task(name="voice.settle_unanswered_call")
def settle_unanswered_call(call_id: int) -> None:
    # Runs VOICEMAIL_GRACE after an unanswered call that was offered voicemail ended with
    # no recording yet: still none now means nobody left a message.
    missed.settle(call_id, grace_over=True)
