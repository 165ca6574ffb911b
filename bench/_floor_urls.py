"""The URLconf of the webhook benchmarks' server: the project's URLs and the floor views.

A floor is the least a webhook can do in this server: read the posted form, one indexed
SELECT (the sender or caller), one INSERT (the message or call), in autocommit, and an
answer of the webhook's size. Each works on two tables of its own that its benchmark
creates in its scratch database, never on the project's models.

- `/bench/floor/sms/` (bench.sms_inbound): the empty TwiML of the SMS webhook.
- `/bench/floor/voice/` (bench.voice_answer): a fixed greeting and gather, the TwiML the
  voice webhook answers a known caller with (`voice_floor_twiml`).
"""

from functools import cache

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from channels_adapters.sms.inbound import EMPTY_TWIML
from channels_adapters.voice import twiml
from config.urls import urlpatterns as project_urlpatterns

SMS_FLOOR_PATH = "/bench/floor/sms/"
SENDERS, MESSAGES = "bench_sms_floor_sender", "bench_sms_floor_message"
CREATE_SMS_FLOOR_TABLES = f"""
CREATE TABLE {SENDERS} (id bigserial PRIMARY KEY, phone text NOT NULL UNIQUE);
CREATE TABLE {MESSAGES} (
    id bigserial PRIMARY KEY,
    sender_id bigint NOT NULL,
    sid text NOT NULL,
    body text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
"""

VOICE_FLOOR_PATH = "/bench/floor/voice/"
CALLERS, CALLS = "bench_voice_floor_caller", "bench_voice_floor_call"
CREATE_VOICE_FLOOR_TABLES = f"""
CREATE TABLE {CALLERS} (id bigserial PRIMARY KEY, phone text NOT NULL UNIQUE);
CREATE TABLE {CALLS} (
    id bigserial PRIMARY KEY,
    caller_id bigint NOT NULL,
    sid text NOT NULL,
    called text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
"""
FLOOR_GREETING = "Hi Dana — are you calling about the T900 treadmill in your cart?"


@cache
def voice_floor_twiml() -> str:
    """What the voice floor answers: the webhook's greeting-and-gather TwiML, built once."""
    return str(twiml.answer(FLOOR_GREETING))


@csrf_exempt
def sms_floor(request: HttpRequest) -> HttpResponse:
    form = request.POST
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {SENDERS} WHERE phone = %s", [form["From"]])
        (sender_id,) = cursor.fetchone()
        cursor.execute(
            f"INSERT INTO {MESSAGES} (sender_id, sid, body) VALUES (%s, %s, %s)",
            [sender_id, form["MessageSid"], form["Body"]],
        )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
def voice_floor(request: HttpRequest) -> HttpResponse:
    form = request.POST
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {CALLERS} WHERE phone = %s", [form["From"]])
        (caller_id,) = cursor.fetchone()
        cursor.execute(
            f"INSERT INTO {CALLS} (caller_id, sid, called) VALUES (%s, %s, %s)",
            [caller_id, form["CallSid"], form["To"]],
        )
    return HttpResponse(voice_floor_twiml(), content_type="text/xml")


urlpatterns = [
    path(SMS_FLOOR_PATH.strip("/") + "/", sms_floor),
    path(VOICE_FLOOR_PATH.strip("/") + "/", voice_floor),
    *project_urlpatterns,
]
