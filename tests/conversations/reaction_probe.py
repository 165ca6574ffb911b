"""A reaction for the reactions tests: it answers each message with a `probe` event."""

from conversations import journal
from conversations.models import Event


def remember(event: Event) -> None:
    if event.kind != "message":  # not to what other apps record around it
        return
    journal.record(
        customer=event.conversation.customer,
        channel=Event.Channel.SYSTEM,
        kind="probe",
        direction=Event.Direction.INTERNAL,
        source_id=f"probe:{event.pk}",
    )
