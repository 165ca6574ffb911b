"""SMS, MMS and WhatsApp through Twilio Programmable Messaging (docs/twilio.md).

- `inbound.py`: `/hooks/twilio/sms/`: a text, an MMS or a WhatsApp message into the
  sender's conversation (`record_inbound_sms`); STOP / START / HELP and stops in words;
- `outbound.py`: `send_sms` for callers, `deliver` as the outbox's sender for `sms`;
- `status.py`: `/hooks/twilio/sms/status/`: delivery reports onto the sent message;
- `backends.py`: `SMS_BACKEND`: Twilio's messaging API, console or locmem;
- `urls.py`: the two webhooks; `apps.py`: the app and what it plugs in;
- `keywords.py`: the carrier keywords (STOP, START, HELP) and the HELP answer.
"""
