"""Project rules as small checks, each with an example it must catch (HOUSE_STYLE.md, 24).

Application code only (not tests, benchmarks or migrations).
"""

import ast
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
    "numbers are read as ASCII digits (str.isdigit() takes '²', isdecimal() '٣')": (
        re.compile(r"\.is(digit|decimal|numeric)\(\)"),
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


# ---------------------------------------------------------------- dependencies point down
# Every import between two top-level packages, as `importer: {imported, ...}`: an edge not
# listed here fails the test below, and the graph must stay free of cycles. The layers:
# base (no domain) < conversations (the domain core) < the outer apps < config. Outer apps
# reach the core through its verbs and each other through plugs (base/plugins.py: hooks,
# providers, reply verbs declared on their AppConfig); an import between two outer apps
# is an edge declared here with the reason it is not a plug.
DEPENDS_ON: dict[str, set[str]] = {
    "base": set(),  # knows no domain: Django only
    "conversations": {"base"},  # imports no outer app: they plug in
    # the workspace pins due call backs (routing's ScheduledCallBack) atop the hot list and
    # counts the waiting ones on the agent's home
    # and the inbox filters by store through routing's list of stores (routing.hours)
    "console": {"base", "conversations", "routing"},
    "operations": {"base", "conversations"},
    # the adapters answer to the core only: what they tell engagement (a missed call that
    # made a case hot) goes through the `missed_call_hooks` engagement declares. Our
    # numbers (channels_adapters/numbers/) belong to stores, and a number's business hours
    # are its store's (instore.hours): a number is a store's, not a plug
    "channels_adapters": {"base", "conversations", "instore"},
    # commerce's ingest records consent the shop collected at checkout in privacy's
    # ledger (the one home of consent proofs), checked against privacy's topics/channels
    "commerce": {"base", "conversations", "privacy"},
    "instore": {"base", "conversations"},
    # the API's customer and cart endpoints are commerce's data
    "api": {"base", "conversations", "commerce"},
    "privacy": {
        "base",
        "conversations",
        # after the erasure commits, the SMS and voice backends are asked to delete what
        # Twilio keeps (messages, media, recordings): provider calls outside the erasure's
        # transaction, with their own report, not rows an app's erasure hook deletes
        "channels_adapters",
    },
    # the insights seed builds a demo shop (carts, stores); the dashboard filters by store;
    # the demo seed (seed_demo) records its calls and widget events through the voice and
    # web chat adapters' own verbs, as live traffic does, so its events are real ones; and
    # books its call back, waits after hours and nudges through routing's and engagement's
    "insights": {
        "conversations",
        "commerce",
        "instore",
        "channels_adapters",
        "routing",
        "engagement",
    },
    # routing's business hours are the stores' whole week (slots, next opening), read in
    # routing/hours.py only: THROUGHLINE_BUSINESS_HOURS answers one number's "open now"
    "routing": {"base", "conversations", "instore"},
    # engagement's rules watch carts, orders and product views (commerce) and its message
    # templates read commerce's context part; scans and store hours (instore) give
    # after-hours answers and the recipient's local time
    "engagement": {"base", "conversations", "commerce", "instore"},
    "quickstart": {"base"},  # the dev launcher, before Django is set up
    # the composition root: settings, URLs, ASGI and Celery wiring name the apps
    "config": {"base", "channels_adapters", "console", "operations", "quickstart"},
}


def imported_packages(source: str, own: str) -> set[str]:
    """Top-level packages of this project that `source` imports, at any depth (imports
    inside functions too), other than its own package `own`."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(n.split(".")[0] for n in names if n.split(".")[0] in APP_DIRS)
    return found - {own}


def undeclared_imports(sources) -> list[str]:
    return [
        f"{name}: {package} -> {target}"
        for name, text in sources
        for package in [name.split("/")[0]]
        for target in sorted(imported_packages(text, package))
        if target not in DEPENDS_ON.get(package, set())
    ]


def cycle_in(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as a path (first node repeated at the end), or []."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target, [*path, target])):
                return found
        state[node] = "done"
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node, [node])):
            return found
    return []


def test_the_dependency_rule_catches_an_undeclared_import_and_a_cycle():
    inside_a_function = "def offer():\n    from engagement.rules import missed_call\n"
    assert undeclared_imports([("channels_adapters/voice/missed.py", inside_a_function)]) == [
        "channels_adapters/voice/missed.py: channels_adapters -> engagement"
    ]
    assert undeclared_imports([("routing/x.py", "import instore.models\nfrom . import a\n")]) == []
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set()}) == []


def test_every_package_declares_its_dependencies():
    assert set(DEPENDS_ON) == set(APP_DIRS)
    assert all(targets <= set(APP_DIRS) for targets in DEPENDS_ON.values())


def test_imports_between_packages_are_declared():
    breaking = undeclared_imports(app_sources())

    assert not breaking, "undeclared imports (add the edge to DEPENDS_ON, with why):\n" + (
        "\n".join(breaking)
    )


def test_the_declared_dependencies_have_no_cycle():
    assert cycle_in(DEPENDS_ON) == []
