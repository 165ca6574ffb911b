"""Celery tasks of the conversation core: each takes an id, loads, calls one verb."""

from celery import shared_task

from conversations import duplicates, outbox, partitions


@shared_task(name="conversations.deliver_outbox_item")
def deliver_outbox_item(outbox_id: int) -> None:
    # Acked late and rejected when the worker is lost, so a killed worker's task comes
    # back; `deliver` claims the row first, so the comeback never sends twice.
    outbox.deliver(outbox_id)


@shared_task(name="conversations.sweep_outbox")
def sweep_outbox() -> None:
    outbox.sweep()


@shared_task(name="conversations.sweep_possible_duplicates")
def sweep_possible_duplicates() -> None:
    duplicates.sweep()


@shared_task(name="conversations.journal_partitions")
def journal_partitions() -> None:
    partitions.create_ahead()
