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


def refuse_poison(event: Event) -> None:
    """Fails on a message that says "poison" until its customer has the antidote trait;
    then answers it with a `digested` event."""
    if event.kind != "message" or "poison" not in event.body:
        return
    customer = event.conversation.customer
    if not customer.traits.get("antidote"):
        raise ValueError("cannot digest this message")
    journal.record(
        customer=customer,
        channel=Event.Channel.SYSTEM,
        kind="digested",
        direction=Event.Direction.INTERNAL,
        source_id=f"digested:{event.pk}",
    )
