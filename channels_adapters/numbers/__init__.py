"""Twilio accounts and the numbers they own, as data (docs/twilio.md, "Several numbers and
accounts"): which account's token checks a webhook, which number a message goes out from,
and which store a number answers for."""
