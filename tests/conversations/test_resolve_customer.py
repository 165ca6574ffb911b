import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.identities import InvalidIdentity, normalize_phone, resolve_customer
from conversations.models import Conversation, Customer, Identity

pytestmark = pytest.mark.django_db


def test_it_creates_a_customer_with_identity_and_conversation():
    customer = resolve_customer("phone", "(415) 555-0132")

    identity = Identity.objects.get()
    assert (identity.customer, identity.kind, identity.value) == (customer, "phone", "+14155550132")
    assert Conversation.objects.get().customer == customer


def test_it_finds_the_same_customer_however_the_phone_is_written():
    first = resolve_customer("phone", "+1 415 555 0132")

    for written in [
        "4155550132",
        "415.555.0132",
        "001 415 555 0132",
        "+14155550132",
        " (415) 555-0132 ",
    ]:
        assert resolve_customer("phone", written) == first
    assert Customer.objects.count() == 1


def test_emails_are_trimmed_and_lower_cased():
    customer = resolve_customer("email", "  Dana.W@Example.COM ")

    assert resolve_customer("email", "dana.w@example.com") == customer
    assert Identity.objects.get().value == "dana.w@example.com"


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("phone", "12", "phone number"),
        ("phone", "not a number", "phone number"),
        ("phone", "+1 555 0100", "phone number"),
        ("email", "dana@", "email"),
        ("visitor", "   ", "visitor id"),
        ("fax", "123", "Unknown identity kind"),
    ],
)
def test_a_value_that_cannot_be_normalised_is_a_clear_error_and_writes_nothing(
    kind, value, message
):
    with pytest.raises(InvalidIdentity, match=message):
        resolve_customer(kind, value)

    assert not Customer.objects.exists()
    assert not Identity.objects.exists()


def test_a_merged_customer_resolves_to_the_survivor():
    from conversations.identities import link_identity

    by_phone = resolve_customer("phone", "+14155550132")
    by_email = resolve_customer("email", "dana@example.com")
    survivor = link_identity(by_email, "phone", "+14155550132")

    assert survivor == by_phone
    assert resolve_customer("email", "dana@example.com") == survivor


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_first_contacts_from_one_phone_make_one_customer(concurrently):
    for n in range(5):  # several rounds: each is a fresh race
        phone = f"+1415555{n:04d}"
        customers = concurrently(resolve_customer, [("phone", phone), ("phone", phone)])

        assert customers[0] == customers[1]
    assert Customer.objects.count() == 5
    assert Conversation.objects.count() == 5
    assert Identity.objects.count() == 5


REGIONS = ["US", "GB", "DE", "FR", "AU", "IN", "BR", "JP", "NL", "ZA"]
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]


@st.composite
def written_numbers(draw):
    """A valid number of some region, written one of the ways people write numbers."""
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    # vary the last digits so the examples differ, keeping only valid numbers
    tail = draw(st.text("0123456789", min_size=2, max_size=2))
    number = phonenumbers.parse(f"+{example.country_code}{national[:-2]}{tail}")
    if not phonenumbers.is_valid_number(number):
        number = example
    style = draw(st.sampled_from(["format", "00", "punctuated"]))
    if style == "format":
        fmt = draw(st.sampled_from(FORMATS))
        text = phonenumbers.format_number(number, fmt)
        if fmt == phonenumbers.PhoneNumberFormat.RFC3966:
            text = text.removeprefix("tel:")
    elif style == "00":
        text = "00" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    else:
        digits = str(number.national_number)
        separators = draw(
            st.lists(
                st.sampled_from([" ", "-", ".", ""]), min_size=len(digits), max_size=len(digits)
            )
        )
        text = f"+{number.country_code} " + "".join(
            d + s for d, s in zip(digits, separators, strict=True)
        )
    return region, text, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=300, deadline=None)
@given(written_numbers())
def test_any_way_of_writing_a_valid_number_gives_its_e164(case):
    region, text, e164 = case

    assert normalize_phone(text, region) == e164


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 +-().x#*abc", max_size=24))
def test_any_text_gives_one_e164_or_a_clear_error(text):
    try:
        result = normalize_phone(text)
    except InvalidIdentity as exc:
        assert str(exc)
    else:
        assert result.startswith("+") and result[1:].isdigit()
        assert phonenumbers.is_valid_number(phonenumbers.parse(result))
        assert normalize_phone(result) == result  # E.164 is a fixed point
