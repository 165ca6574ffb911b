"""Every row lock of the domain, in one place.

`FOR NO KEY UPDATE` (no_key=True) is enough to serialise writers of a conversation while
letting inserts of rows that reference it (events, cases) take their `FOR KEY SHARE`
without waiting.
"""

from django.db import connection

from conversations.models import Conversation, Customer

# pg_advisory_xact_lock key for merges (any fixed bigint; this one spells "merge" in ASCII).
MERGE_LOCK_KEY = 0x6D65726765


def conversation_for_update(customer: Customer) -> Conversation:
    """Lock the conversation that holds this customer's journal now.

    A merge marks the old conversation merged under this same lock, so a writer that
    waited on it follows `merged_into` and locks the survivor's instead.
    """
    customer_id = customer.pk
    while True:
        conversation = Conversation.objects.select_for_update(no_key=True).get(
            customer_id=customer_id
        )
        if conversation.status != Conversation.Status.MERGED:
            return conversation
        customer_id = Customer.objects.values_list("merged_into_id", flat=True).get(pk=customer_id)


def merges_serialised() -> None:
    """Take the merge lock until the transaction ends.

    Merges are rare (one per stitched identity) but touch two customers, two conversations
    and whatever chain of earlier merges leads to them; taking them one at a time rules out
    lock-order deadlocks between concurrent merges at no cost that matters.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MERGE_LOCK_KEY])
