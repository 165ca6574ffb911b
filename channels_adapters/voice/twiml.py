"""What callers hear: the greeting from the customer context, and every TwiML answer.

All TwiML is built with the `twilio` package's `VoiceResponse`, never by hand, so text
from the context (a product name with "&" or "<") is always escaped. Callback URLs are
absolute, under PUBLIC_BASE_URL, because Twilio signs the URL it calls and we check the
signature against that same address.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from twilio.twiml.voice_response import VoiceResponse

from conversations.context import CurrentIntent, CustomerContext, Headline, InStore

# The keypad digit that stops every call and text from us (revocation by any reasonable
# means, FCC 24-24; the prompt says it to every caller). "9": clear of "1" (talk to us now).
OPT_OUT_DIGIT = "9"
PROMPT = (
    "Tell us in a few words what it is about, or press 1 to talk to us now. "
    f"To stop all calls and texts from us, press {OPT_OUT_DIGIT}."
)
OPTED_OUT = (
    "You will get no more calls or texts from us. If you change your mind, text START to "
    "this number. Goodbye."
)
NO_ONE_FREE = (
    "Everyone on our team is busy right now. Please leave a message after the tone, "
    "and we will call you back."
)
NO_ANSWER = (
    "Sorry, nobody could take your call. Please leave a message after the tone, "
    "and we will call you back."
)
DATABASE_DOWN = (
    "Thanks for calling. We're sorry, our system is having a problem right now. Please "
    "leave a message after the tone, and we will call you back as soon as we can."
)
NO_MESSAGE = "We did not get a message. Goodbye."
THANKS = "Thank you. We will get back to you soon. Goodbye."


def url(name: str, **query: object) -> str:
    path = reverse(f"voice:{name}")
    params = "&".join(f"{key}={value}" for key, value in query.items())
    return f"{settings.PUBLIC_BASE_URL}{path}" + (f"?{params}" if params else "")


def respond(twiml: VoiceResponse | str) -> HttpResponse:
    return HttpResponse(str(twiml), content_type="text/xml")


def greeting(context: CustomerContext | Headline | None, *, store: str = "") -> str:
    """The first words of the call: the caller's name and what they are probably calling
    about (in store now, their cart, an open request), else the default greeting. The
    webhook passes the one-query headline; the full context says the same. `store`: the
    name of the store whose number was called, thanked by name."""
    called = f"calling {store}" if store else "calling"
    if context is None:
        return _default_greeting(store)
    first_name = context.name.split()[0] if context.name.strip() else ""
    about = _about(context)
    if first_name and about:
        return f"Hi {first_name} — are you calling about {about}?"
    if about:
        return f"Hi, thanks for {called} — are you calling about {about}?"
    if first_name:
        return f"Hi {first_name}, thanks for {called}. How can we help you today?"
    return _default_greeting(store)


def _default_greeting(store: str) -> str:
    if store:
        return f"Hi, thanks for calling {store}. How can we help you today?"
    return settings.VOICE_DEFAULT_GREETING


def _about(context: CustomerContext | Headline) -> str:
    in_store = context.part(InStore)
    if in_store and in_store.visit:  # standing in front of it beats anything done online
        return f"the {in_store.visit.product_name} at {in_store.visit.store_name}"
    current = context.part(CurrentIntent)
    intent = current.intent if current else None
    kind = intent.kind if intent else None
    if intent is not None and kind == "cart":
        if len(intent.names) == 1:
            return f"the {intent.names[0]} in your cart"
        return f"the {intent.item_count} items in your cart"
    if kind == "checkout":
        return "finishing your order"
    if intent is not None and kind == "evaluating" and intent.name:
        return f"the {intent.name}"
    if context.open_case is not None:
        return "your open request with us"
    return ""


def answer_xml(greeting_text: str) -> str:
    """`answer` as TwiML text, kept per greeting: building it costs more than half a
    millisecond, every call needs one, and callers hear the same few greetings (the
    default for new numbers, and each known caller's own)."""
    return _answer_xml(greeting_text, url("gather"))


@lru_cache(maxsize=2048)
def _answer_xml(greeting_text: str, gather_url: str) -> str:
    return str(answer(greeting_text))


def answer(greeting_text: str) -> VoiceResponse:
    """Greet, ask what it is about; whatever the caller does, the gather URL routes the call."""
    response = VoiceResponse()
    response.say(greeting_text)
    gather = response.gather(
        input="speech dtmf",
        action=url("gather"),
        method="POST",
        timeout=4,
        speech_timeout="auto",
        num_digits=1,
    )
    gather.say(PROMPT)
    response.redirect(url("gather"), method="POST")  # no answer: route all the same
    return response


def connect(
    *, phone: str, caller_id: str, say: str = "Connecting you now.", **query
) -> VoiceResponse:
    """Ring one number; the Dial's outcome comes back to the status URL (`DialCallStatus`)."""
    response = VoiceResponse()
    response.say(say)
    dial = response.dial(
        action=url("status", **query),
        method="POST",
        timeout=settings.VOICE_DIAL_TIMEOUT,
        caller_id=caller_id or None,
    )
    dial.number(phone)
    return response


def voicemail(prompt: str) -> VoiceResponse:
    """Say the prompt and record a message, transcribed; both come back to the recording URL."""
    recording = url("recording")
    response = VoiceResponse()
    response.say(prompt)
    response.record(
        action=recording,
        method="POST",
        max_length=settings.VOICE_VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        transcribe=True,
        transcribe_callback=recording,
        recording_status_callback=recording,
        recording_status_callback_method="POST",
        # "absent" tells us at once that no message was left (missed.py settles the call)
        recording_status_callback_event="completed absent",
    )
    response.say(NO_MESSAGE)  # Twilio comes here when nothing was recorded
    response.hangup()
    return response


def after_hours(description: str) -> VoiceResponse:
    return voicemail(
        f"Thanks for calling. We're closed right now. Our hours are {description}. "
        "Please leave a message after the tone, and we will call you back when we open."
    )


def goodbye(text: str = THANKS) -> VoiceResponse:
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return response


def database_down(request) -> HttpResponse:
    """What a caller hears when the database cannot be read before their call is known:
    the apology and a voicemail (the webhooks' `twilio_webhook(database_down=...)`)."""
    return respond(voicemail(DATABASE_DOWN))


def database_down_goodbye(request) -> HttpResponse:
    """The same for a recording's callback: the recording stays at Twilio; goodbye."""
    return respond(goodbye())
