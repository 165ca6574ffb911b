"""The URLconf of `bench.sms_inbound`'s server: the project's URLs and the floor view.

The floor is the least an inbound-SMS webhook can do in this server: read the posted
form, one indexed SELECT (the sender), one INSERT (the message), in autocommit, and the
same empty TwiML. It works on two tables of its own that the benchmark creates in its
scratch database, never on the project's models.
"""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from channels_adapters.sms.inbound import EMPTY_TWIML
from config.urls import urlpatterns as project_urlpatterns

FLOOR_PATH = "/bench/floor/"
SENDERS, MESSAGES = "bench_sms_floor_sender", "bench_sms_floor_message"
CREATE_FLOOR_TABLES = f"""
CREATE TABLE {SENDERS} (id bigserial PRIMARY KEY, phone text NOT NULL UNIQUE);
CREATE TABLE {MESSAGES} (
    id bigserial PRIMARY KEY,
    sender_id bigint NOT NULL,
    sid text NOT NULL,
    body text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
"""


@csrf_exempt
def floor(request: HttpRequest) -> HttpResponse:
    form = request.POST
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {SENDERS} WHERE phone = %s", [form["From"]])
        (sender_id,) = cursor.fetchone()
        cursor.execute(
            f"INSERT INTO {MESSAGES} (sender_id, sid, body) VALUES (%s, %s, %s)",
            [sender_id, form["MessageSid"], form["Body"]],
        )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


urlpatterns = [path(FLOOR_PATH.strip("/") + "/", floor), *project_urlpatterns]
