"""Every row lock of the domain, in one place.

`FOR NO KEY UPDATE` (no_key=True) is enough to serialise writers of a conversation while
letting inserts of rows that reference it (events, cases) take their `FOR KEY SHARE`
without waiting.
"""

from .models import Conversation, Customer


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
