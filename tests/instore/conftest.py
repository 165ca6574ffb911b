from tests.channels_adapters.sms.conftest import twilio, twilio_settings  # noqa: F401
