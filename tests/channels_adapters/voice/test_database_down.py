"""With the database unreachable, a caller still hears an apology and can leave a message.

The webhook runs in another process whose DATABASE_URL points at a port nobody listens
on: the project's own code and settings, nothing patched.
"""

import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET

from django.conf import settings

from tests.conftest import subprocess_env
from tests.fakes.twilio_server import AUTH_TOKEN

SCRIPT = """
import json, os, time
from urllib.parse import urlencode
import django
django.setup()
from django.test import Client
from twilio.request_validator import RequestValidator

form = {"CallSid": "CA" + "1" * 32, "From": "+14155550123", "To": "+14155550100",
        "CallStatus": "ringing"}
answers = []
for path in ["/hooks/twilio/voice/", "/hooks/twilio/voice/gather/",
             "/hooks/twilio/voice/recording/"]:
    url = os.environ["PUBLIC_BASE_URL"] + path
    signature = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)
    started = time.monotonic()
    response = Client().post(path, urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature})
    answers.append({"status": response.status_code, "body": response.content.decode(),
                    "seconds": time.monotonic() - started})
print(json.dumps(answers))
"""


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends


def test_the_inbound_webhook_answers_valid_twiml_without_a_database():
    env = subprocess_env(
        DATABASE_URL=f"postgres://nobody@127.0.0.1:{closed_port()}/gone",
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        PUBLIC_BASE_URL="https://shop.example.com",
        LOG_LEVEL="ERROR",
        # The pool's wait is what a caller hears before the apology; production waits 5 s
        # (config/settings/runtime.py). A short wait here keeps the bound below far from
        # what a loaded machine's scheduling can add.
        DATABASE_POOL_TIMEOUT="1",
    )
    env.pop("DATABASE_POOL", None)  # production's default: the connection pool is on

    # Our own interpreter running our own script: no outside input.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    inbound, gather, recording = json.loads(done.stdout.strip().splitlines()[-1])
    for answer in (inbound, gather):
        assert answer["status"] == 200
        root = ET.fromstring(answer["body"])  # noqa: S314  # our own answer
        assert [child.tag for child in root] == ["Say", "Record", "Say", "Hangup"]
        assert "our system is having a problem" in root.find("Say").text
        assert answer["seconds"] < 10  # Twilio gives up after 15 s
    assert recording["status"] == 200
    assert [child.tag for child in ET.fromstring(recording["body"])]  # noqa: S314 == ["Say", "Hangup"]
