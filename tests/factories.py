"""factory_boy factories for the domain; customers always come with their conversation."""

import factory
from factory.django import DjangoModelFactory

from conversations.models import Conversation, Customer, Identity


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    display_name = factory.Faker("name")
    conversation = factory.RelatedFactory(
        "tests.factories.ConversationFactory", factory_related_name="customer"
    )


class ConversationFactory(DjangoModelFactory):
    class Meta:
        model = Conversation

    customer = factory.SubFactory(CustomerFactory, conversation=None)


class IdentityFactory(DjangoModelFactory):
    class Meta:
        model = Identity

    customer = factory.SubFactory(CustomerFactory)
    kind = Identity.Kind.EMAIL
    value = factory.Sequence(lambda n: f"shopper{n}@example.com")
