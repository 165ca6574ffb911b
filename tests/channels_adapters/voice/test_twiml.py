"""The greeting's TwiML, kept per greeting: the same answer as built afresh, escaped."""

import xml.etree.ElementTree as ET

from channels_adapters.voice import twiml
from tests.channels_adapters.voice.conftest import said, verbs


def test_the_kept_answer_is_the_built_one_and_escapes_the_greeting():
    greeting = "Hi Dana — are you calling about the Rain & Shine <Pro> jacket?"

    kept = twiml.answer_xml(greeting)

    assert kept == str(twiml.answer(greeting))
    assert "Rain &amp; Shine &lt;Pro&gt;" in kept
    root = ET.fromstring(kept)  # noqa: S314  # our own answer
    assert verbs(root) == ["Say", "Gather", "Redirect"]
    assert said(root).startswith(greeting)


def test_the_kept_answer_follows_the_public_address(settings):
    settings.PUBLIC_BASE_URL = "https://one.example.com"
    first = twiml.answer_xml("Hello")
    settings.PUBLIC_BASE_URL = "https://two.example.com"

    assert "https://one.example.com/hooks/twilio/voice/gather/" in first
    assert "https://two.example.com/hooks/twilio/voice/gather/" in twiml.answer_xml("Hello")
