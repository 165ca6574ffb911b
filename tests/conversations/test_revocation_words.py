"""Revocation by any reasonable means: which words are a stop (conversations/revocation.py)."""

import pytest

from conversations import revocation

DEFINITIVE, AMBIGUOUS = revocation.DEFINITIVE, revocation.AMBIGUOUS


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop.",
        "Stop please",
        "please stop texting me",
        "Cancel my reminders",
        "opt-out",
        "I want to OPT OUT",
        "unsubscribe me now",
        "I revoke my consent",
        "Quit sending me these messages!!",
        "END these alerts",
        "don't text me",
        "Do not contact me again",
        "leave me alone",
        "remove me from your list",
        "no more texts",
        # Spanish
        "no más mensajes",
        "Por favor NO MAS MENSAJES",
        "¡Déjame en paz!",
        "No me escribas más",
        "quiero darme de baja",
        "deja de enviarme mensajes",
        "para",
        "BAJA",
    ],
)
def test_a_stop_in_any_words_position_or_casing_is_definitive(text):
    assert revocation.classify(text).kind == DEFINITIVE


@pytest.mark.parametrize(
    "text",
    [
        "Can I stop by the store tomorrow?",
        "I want to cancel my order",
        "please don't stop",
        "stop it, the bike is great",
        "not interested",
        "wrong number",
        "no me interesa",
        "what time do you close at the end of the day",
    ],
)
def test_words_that_may_be_a_stop_are_at_most_ambiguous(text):
    assert revocation.classify(text).kind == AMBIGUOUS


@pytest.mark.parametrize(
    "text", ["Do you have the T900 in stock?", "weekend hours?", "Es para mi hijo", "", "   "]
)
def test_ordinary_messages_are_no_stop(text):
    assert not revocation.classify(text)
