"""WhatsApp through Twilio Programmable Messaging (docs/whatsapp.md); SMS's sibling.

- `inbound.py`: `/hooks/twilio/whatsapp/`: a WhatsApp message (text, media, a location, a
  button) into the journal, through the SMS adapter's recorder (consent, revocation, HELP);
- `status.py`: `/hooks/twilio/whatsapp/status/`: sent, delivered, read, failed (63016);
- `window.py`: WhatsApp's 24-hour window (`whatsapp_window`), the templates per topic, and
  the plugs that ask it (context, engagement gate, send check);
- `outbound.py`: `send_whatsapp` (the reply verb: free text or template) and `deliver`
  (the outbox's sender);
- `backends.py`: the one door to Twilio for WhatsApp (WHATSAPP_BACKEND);
- `urls.py`: the webhooks.
"""
