"""SMS and MMS through Twilio Programmable Messaging (docs/twilio.md); WhatsApp is its
sibling `channels_adapters.whatsapp`, which records through `record_inbound_sms` too.

- `inbound.py`: `/hooks/twilio/sms/`: a text or an MMS into the sender's conversation
  (`record_inbound_sms`); STOP / START / HELP and stops in words; a `whatsapp:` form
  that arrives here is handed to the WhatsApp adapter;
- `outbound.py`: `send_sms` for callers, `deliver` as the outbox's sender for `sms`;
- `status.py`: `/hooks/twilio/sms/status/`: delivery reports onto the sent message
  (`record_status`, shared with WhatsApp's);
- `backends.py`: `SMS_BACKEND`: Twilio's messaging API, console or locmem;
- `urls.py`: the two webhooks; `apps.py`: the app and what it plugs in;
- `keywords.py`: the carrier keywords (STOP, START, HELP) and the HELP answer.
"""
