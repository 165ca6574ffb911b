"""The email webhooks' secrets, a scratch MEDIA_ROOT, and the locmem email backend."""

import pytest
from django.core import mail

from channels_adapters.email.backends import LocmemBackend
from tests.fakes.email_payloads import ANYMAIL_SETTINGS


@pytest.fixture(autouse=True)
def email_settings(settings, tmp_path):
    settings.ANYMAIL = dict(ANYMAIL_SETTINGS)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EMAIL_CHANNEL_BACKEND = "channels_adapters.email.backends.LocmemBackend"
    settings.EMAIL_FROM = "Shop <help@shop.example>"
    settings.EMAIL_MESSAGE_ID_DOMAIN = "shop.example"
    mail.outbox = []
    LocmemBackend.answers = []
    yield settings
    LocmemBackend.answers = []
