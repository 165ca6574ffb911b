"""Today's single account as rows: TWILIO_ACCOUNT_SID with its token read from the
variable TWILIO_AUTH_TOKEN (a reference, never the value), TWILIO_FROM_NUMBER or
TWILIO_MESSAGING_SERVICE_SID as the shop's default sender, VOICE_FROM_NUMBER when it is
another number, and each store's own phone as that store's number. Once numbers are
rows, a webhook for any other number is refused: these are every number that took
traffic before. Without TWILIO_ACCOUNT_SID (or without its token) nothing is written and
the settings go on serving, unchanged; likewise with TWILIO_MESSAGING_SERVICE_SID, whose
pool numbers the settings do not name (a call to one of them would be refused): the
operator adds them in the admin (docs/twilio.md). Reversing deletes only the rows
written here.
"""

from django.conf import settings
from django.db import migrations

from conversations.identities import InvalidIdentity, normalize_phone

TOKEN_VARIABLE = "TWILIO_AUTH_TOKEN"  # noqa: S105  (the variable's name, not a token)


def _e164(number: str) -> str:
    """The number as Twilio writes `To` (E.164), which is how webhooks look it up; a
    setting written "+1 415 555 0100" would otherwise have its traffic refused."""
    try:
        return normalize_phone(number) if number else ""
    except InvalidIdentity:
        return number  # kept as written: the admin shows it, and the operator corrects it


def from_settings(apps, schema_editor):
    TwilioAccount = apps.get_model("numbers", "TwilioAccount")
    MessagingNumber = apps.get_model("numbers", "MessagingNumber")
    Store = apps.get_model("instore", "Store")
    sid = settings.TWILIO_ACCOUNT_SID
    if (
        not (sid and settings.TWILIO_AUTH_TOKEN)
        or settings.TWILIO_MESSAGING_SERVICE_SID
        or TwilioAccount.objects.exists()
    ):
        return
    account = TwilioAccount.objects.create(
        label="Main account (from the settings)", account_sid=sid, auth_token_env=TOKEN_VARIABLE
    )
    shop = _e164(settings.TWILIO_FROM_NUMBER)
    if shop:
        MessagingNumber.objects.create(account=account, phone_number=shop, is_default=True)
    voice = _e164(getattr(settings, "VOICE_FROM_NUMBER", ""))
    if voice and voice != shop:
        MessagingNumber.objects.create(account=account, phone_number=voice, sms=False)
    taken = {shop, voice}
    for store in Store.objects.exclude(phone="").order_by("pk"):
        phone = _e164(store.phone)
        if phone in taken:  # the shop's number is also this store's: keep one row
            MessagingNumber.objects.filter(phone_number=phone).update(store=store)
            continue
        taken.add(phone)
        MessagingNumber.objects.create(account=account, store=store, phone_number=phone)


def remove(apps, schema_editor):
    TwilioAccount = apps.get_model("numbers", "TwilioAccount")
    MessagingNumber = apps.get_model("numbers", "MessagingNumber")
    accounts = TwilioAccount.objects.filter(
        auth_token_env=TOKEN_VARIABLE, label="Main account (from the settings)"
    )
    MessagingNumber.objects.filter(account__in=accounts).delete()
    accounts.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("numbers", "0001_initial"),
        ("instore", "0002_scan_consent_box"),
    ]

    operations = [migrations.RunPython(from_settings, remove)]
