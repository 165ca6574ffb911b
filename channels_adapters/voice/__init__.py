"""Phone calls through Twilio Voice (docs/twilio.md, "Voice").

- `inbound.py`: `/hooks/twilio/voice/`: an incoming call into the caller's conversation,
  answered with a greeting from the customer context;
- `outbound.py`: `call_back`, the agent's "Call back" (THROUGHLINE_CALL_BACK), and the
  `/bridge/` TwiML that connects the customer once the agent answers;
- `status.py`: `/hooks/twilio/voice/status/`: call progress and `<Dial>` outcomes;
- `backends.py`: `VOICE_BACKEND`: Twilio's voice API, console or locmem;
- `urls.py`: the webhooks; `apps.py`: the app and what it plugs in;
- `twiml.py`: everything callers hear; `gather.py`: what they said or pressed, and where
  the call goes; `ringing.py`: business hours and the agent to ring; `recording.py`:
  voicemail recordings and transcripts; `missed.py`: whether an ended call was missed;
  `context.py`: what voice adds to the customer context; `tasks.py`: Celery interfaces.
"""
