"""Project rules as small checks, each with an example it must catch (HOUSE_STYLE.md, 24).

Application code only (not tests, benchmarks or migrations).
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP_DIRS = [
    "config",
    "base",
    "conversations",
    "console",
    "operations",
    "channels_adapters",
    "commerce",
    "api",
    "instore",
    "quickstart",
    "engagement",
    "routing",
    "insights",
    "privacy",
]

RULES = {
    # rule: (pattern, files allowed to match, a line it must catch, a line it must let pass)
    "only the journal writes events": (
        re.compile(r"\bEvent\.objects\.(create|bulk_create|get_or_create|update_or_create)\b"),
        {"conversations/journal.py"},
        "Event.objects.create(conversation=c, seq=1)",
        "Event.objects.filter(conversation=c)",
    ),
    "Twilio's REST client only behind the one door": (
        re.compile(r"\btwilio\.rest\b"),
        {"channels_adapters/twilio_rest.py"},
        "from twilio.rest import Client",
        "from twilio.request_validator import RequestValidator",
    ),
    "every select_for_update says no_key": (
        re.compile(r"select_for_update\((?![^)]*no_key=)"),
        set(),
        "Conversation.objects.select_for_update().get(pk=1)",
        "Conversation.objects.select_for_update(no_key=True).get(pk=1)",
    ),
    "numbers are read as ASCII digits (str.isdigit() takes '²')": (
        re.compile(r"\.isdigit\(\)"),
        {"base/inputs.py"},
        "if value.isdigit():",
        "if (number := ascii_int(value)) is not None:",
    ),
    "no naive datetimes": (
        re.compile(r"datetime\.(now|utcnow)\(\)"),
        set(),
        "started = datetime.now()",
        "started = timezone.now()",
    ),
}


def app_sources():
    for folder in APP_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), path.read_text()


@pytest.mark.parametrize("rule", RULES)
def test_the_rule_catches_its_bad_example_and_passes_its_good_one(rule):
    pattern, _, bad, good = RULES[rule]

    assert pattern.search(bad)
    assert not pattern.search(good)


@pytest.mark.parametrize("rule", RULES)
def test_the_code_keeps_the_rule(rule):
    pattern, allowed, _, _ = RULES[rule]

    breaking = [
        f"{name}:{number}: {line.strip()}"
        for name, text in app_sources()
        if name not in allowed
        for number, line in enumerate(text.splitlines(), 1)
        if pattern.search(line)
    ]

    assert not breaking, f"{rule}:\n" + "\n".join(breaking)
