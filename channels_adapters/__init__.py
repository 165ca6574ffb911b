"""One package per channel: each parses inbound traffic into the journal and sends outbound.

Every adapter has the same files (docs/adding-a-channel.md walks through them):

- `inbound.py`: what arrives, parsed and recorded through one journal verb;
- `outbound.py`: the channel's send verb (the outbox's sender, or the reply verb);
- `status.py`: delivery and status callbacks, where the channel has them;
- `backends.py`: the one door to the provider, chosen by setting (twilio / console /
  locmem), or for the web chat the socket fan-out that carries it;
- `urls.py`: the webhooks (or endpoints) a provider or browser calls;
- `apps.py`: the AppConfig, with what the channel plugs in (`plugs = {...}`);
- `__init__.py`: a docstring naming each file's role.

Channel-specific extras sit beside them, named for what they do. Shared by the Twilio
adapters (sms/ and voice/): `twilio_signature.py` (the gate: signature, size, encoding),
`twilio_form.py` (strict reading of Twilio's form fields) and `twilio_rest.py` (the REST
client the Twilio backends share, one per account), and `numbers/`: our Twilio accounts
and numbers as rows, whose webhook is whose, and which number a message leaves from
(docs/twilio.md, "Several numbers and accounts").
"""
