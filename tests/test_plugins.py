"""Plugs: apps declare them on their AppConfig, settings only switch them (base/plugins.py).

Unset, a kind is what the installed apps declare, in INSTALLED_APPS order; set, from the
environment or a test, it replaces the declarations exactly: empty empties, a reordered
list reorders. A dotted path that does not import fails the system check, naming it.
"""

import json
import re
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from base import plugins
from config.env import StrictEnv
from conversations import journal
from conversations.identities import resolve_customer
from instore.models import Scan
from tests.conftest import subprocess_env
from tests.instore.factories import PlacementFactory

SHOPPER = "+14155550123"


class Declaring:
    """An AppConfig as plugins reads it: a label and its `plugs`."""

    def __init__(self, label, plugs):
        self.label, self.plugs = label, plugs


# ---- what the apps declare


def test_every_kind_is_what_the_apps_declare_in_installed_apps_order():
    configs = apps.get_app_configs()
    for kind in plugins.KINDS:
        expected = []
        for config in configs:
            for path in getattr(config, "plugs", {}).get(kind, []):
                if path not in expected:
                    expected.append(path)
        assert plugins.declared(kind) == (
            {k: v for c in configs for k, v in getattr(c, "plugs", {}).get(kind, {}).items()}
            if plugins.KINDS[kind].keyed
            else expected
        ), kind


def test_the_declared_defaults_in_app_order():
    # the order the settings' feature blocks used to build: reactions and merge hooks run
    # in it, and insights (installed last) reads what routing and engagement wrote
    assert plugins.paths("event_reactions") == [
        "conversations.names.on_event",  # the core's own: a name from an order or a call
        "conversations.duplicates.on_event",
        "routing.hooks.on_event",
        "engagement.hooks.on_event",
        "insights.facts.on_event",
        "insights.outcomes.on_event",
    ]
    assert plugins.paths("merge_hooks") == [
        "commerce.merges.move_to_survivor",
        "instore.scans.move_to_survivor",
        "privacy.preferences.move_to_survivor",
        "routing.customers.move_to_survivor",
        "engagement.merges.move_to_survivor",
        "insights.facts.move_to_survivor",
    ]
    assert plugins.paths("split_hooks") == ["instore.scans.follow_visitors_after_split"]
    assert plugins.paths("event_hooks") == ["instore.hooks.on_event"]
    assert plugins.paths("manager_permissions") == [
        "privacy.export_customer",
        "privacy.erase_customer",
        "insights.view_insights",
    ]
    assert list(plugins.mapping("reply_verbs")) == ["sms", "whatsapp", "web", "email"]


def test_enabled_imports_each_plug_in_order():
    from insights import facts, outcomes
    from routing import hooks as routing_hooks

    enabled = plugins.enabled("event_reactions")

    assert enabled[2] is routing_hooks.on_event  # after the core's (names, possible duplicates)
    assert enabled[-2:] == [facts.on_event, outcomes.on_event]


def test_declarations_are_collected_in_the_order_of_the_apps_given(settings):
    first = Declaring("first", {"merge_hooks": ["a.one"], "senders": {"sms": "a.send"}})
    second = Declaring("second", {"merge_hooks": ["b.two", "a.one"]})

    assert plugins.collect("merge_hooks", [first, second]) == ["a.one", "b.two"]
    assert plugins.collect("merge_hooks", [second, first]) == ["b.two", "a.one"]
    assert plugins.collect("senders", [second, first]) == {"sms": "a.send"}


def test_one_channel_declared_by_two_apps_is_refused():
    first = Declaring("first", {"senders": {"sms": "a.send"}})
    second = Declaring("second", {"senders": {"sms": "b.send"}})

    with pytest.raises(ImproperlyConfigured, match="sms declared twice"):
        plugins.collect("senders", [first, second])


def test_an_unknown_kind_stops_the_start_with_its_name():
    typo = Declaring("instore", {"event_hook": ["instore.hooks.on_event"]})
    wrong_shape = Declaring("sms", {"senders": ["channels_adapters.sms.outbound.deliver"]})

    with pytest.raises(ImproperlyConfigured) as refused:
        plugins.validate([typo, wrong_shape])

    assert "instore declares an unknown plug kind 'event_hook'" in str(refused.value)
    assert "sms declares senders as" in str(refused.value)
    plugins.validate(apps.get_app_configs())  # ours are fine


def test_asking_for_an_unknown_kind_says_which_exist():
    with pytest.raises(LookupError, match="No plug kind 'event_hook'; the kinds are event_hooks"):
        plugins.paths("event_hook")


# ---- the settings switch


def test_a_list_replaces_the_declarations_exactly(settings):
    settings.THROUGHLINE_MERGE_HOOKS = [
        "insights.facts.move_to_survivor",
        "commerce.merges.move_to_survivor",
    ]
    assert plugins.paths("merge_hooks") == [
        "insights.facts.move_to_survivor",
        "commerce.merges.move_to_survivor",
    ]

    settings.THROUGHLINE_MERGE_HOOKS = []
    assert plugins.paths("merge_hooks") == []
    assert plugins.enabled("merge_hooks") == []

    settings.THROUGHLINE_MERGE_HOOKS = None
    assert plugins.paths("merge_hooks")[0] == "commerce.merges.move_to_survivor"


def test_a_reordered_list_runs_in_its_order(settings):
    from insights import facts
    from routing import hooks as routing_hooks

    settings.THROUGHLINE_EVENT_REACTIONS = ["insights.facts.on_event", "routing.hooks.on_event"]

    assert plugins.enabled("event_reactions") == [facts.on_event, routing_hooks.on_event]


def test_a_keyed_setting_names_every_channel(settings):
    settings.THROUGHLINE_REPLY_VERBS = {"web": "channels_adapters.webchat.outbound.reply_on_web"}

    assert list(plugins.mapping("reply_verbs")) == ["web"]


def test_a_setting_of_the_wrong_shape_is_refused(settings):
    settings.THROUGHLINE_SENDERS = ["channels_adapters.sms.outbound.deliver"]

    with pytest.raises(ImproperlyConfigured, match=r"THROUGHLINE_SENDERS must be \{"):
        plugins.mapping("senders")


@pytest.mark.parametrize(
    ("raw", "keyed", "expected"),
    [
        ("", False, []),
        (" ", False, []),
        ("routing.hooks.on_event, insights.facts.on_event", False, [
            "routing.hooks.on_event", "insights.facts.on_event"
        ]),
        ("sms=a.send, web = b.reply", True, {"sms": "a.send", "web": "b.reply"}),
        ("", True, {}),
    ],
)  # fmt: skip
def test_the_environment_says_exactly_what_runs(monkeypatch, raw, keyed, expected):
    monkeypatch.setenv("THROUGHLINE_SOME_PLUGS", raw)

    assert StrictEnv().plugs("THROUGHLINE_SOME_PLUGS", keyed=keyed) == expected


def test_an_unset_variable_leaves_the_declarations(monkeypatch):
    monkeypatch.delenv("THROUGHLINE_SOME_PLUGS", raising=False)

    assert StrictEnv().plugs("THROUGHLINE_SOME_PLUGS") is None


def test_a_channel_without_a_path_is_refused(monkeypatch):
    monkeypatch.setenv("THROUGHLINE_SENDERS", "sms")

    with pytest.raises(
        ImproperlyConfigured, match=re.escape("\"channel=dotted.path\" pairs, not 'sms'")
    ):
        StrictEnv().plugs("THROUGHLINE_SENDERS", keyed=True)


def test_plug_settings_come_from_files_too(monkeypatch, tmp_path):
    listed = tmp_path / "hooks"
    listed.write_text("instore.hooks.on_event\n")
    monkeypatch.delenv("THROUGHLINE_SOME_PLUGS", raising=False)
    monkeypatch.setenv("THROUGHLINE_SOME_PLUGS_FILE", str(listed))

    assert StrictEnv().plugs("THROUGHLINE_SOME_PLUGS") == ["instore.hooks.on_event"]


def scanned_reference(client) -> str:
    """An anonymous shopper scans a label; the text its "Text us" button prefills."""
    placement = PlacementFactory()
    answer = client.post(f"/s/{placement.code}/scan", "{}", content_type="application/json")
    return answer.json()["sms_body"]


def text_from_the_shopper(body, capture):
    with capture(execute=True):  # the journal's hooks run after commit
        journal.record(
            customer=resolve_customer("phone", SHOPPER),
            channel="sms",
            kind="message",
            direction="in",
            body=body,
            data={"from": SHOPPER},
        )


@pytest.mark.django_db
def test_an_empty_event_hooks_variable_runs_no_in_store_hook(
    client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given THROUGHLINE_EVENT_HOOKS="" in the environment, read as the settings read it
    monkeypatch.setenv("THROUGHLINE_EVENT_HOOKS", "")
    settings.THROUGHLINE_EVENT_HOOKS = StrictEnv().plugs("THROUGHLINE_EVENT_HOOKS")
    body = scanned_reference(client)

    # when the shopper texts the scan's reference, which the in-store hook would link
    text_from_the_shopper(body, django_capture_on_commit_callbacks)

    # then nothing joined the phone to the scan
    assert settings.THROUGHLINE_EVENT_HOOKS == []
    assert Scan.objects.get().linked_at is None


@pytest.mark.django_db
def test_unset_the_in_store_hook_links_the_scan(
    client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # the control: the same text with the declarations standing joins phone and scan
    monkeypatch.delenv("THROUGHLINE_EVENT_HOOKS", raising=False)
    settings.THROUGHLINE_EVENT_HOOKS = StrictEnv().plugs("THROUGHLINE_EVENT_HOOKS")
    body = scanned_reference(client)

    text_from_the_shopper(body, django_capture_on_commit_callbacks)

    assert settings.THROUGHLINE_EVENT_HOOKS is None
    assert Scan.objects.get().linked_at is not None


def manage(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=subprocess_env(**env),
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db
def test_the_settings_module_reads_an_empty_variable_as_empty():
    result = manage(
        "shell",
        "-c",
        "from base import plugins; import json; "
        "print(json.dumps([plugins.paths('event_hooks'), plugins.paths('merge_hooks')]))",
        THROUGHLINE_EVENT_HOOKS="",
    )

    assert result.returncode == 0, result.stderr
    event_hooks, merge_hooks = json.loads(result.stdout.splitlines()[-1])
    assert event_hooks == []
    assert merge_hooks[0] == "commerce.merges.move_to_survivor"  # the others stand


# ---- the check


def test_a_path_that_does_not_import_fails_the_check_with_its_path(settings):
    settings.ENGAGEMENT_GATES = ["privacy.gates.gate", "privacy.gates.no_such_gate"]

    errors = plugins.check()

    assert [error.id for error in errors] == ["plugins.E003"]
    assert "privacy.gates.no_such_gate" in errors[0].msg
    assert "setting ENGAGEMENT_GATES" in errors[0].msg
    with pytest.raises(ImproperlyConfigured, match=re.escape("privacy.gates.no_such_gate")):
        plugins.enabled("engagement_gates")


def test_the_shipped_plugs_pass_the_check():
    assert plugins.check() == []


def test_a_permission_that_names_no_app_fails_the_check(settings):
    settings.THROUGHLINE_MANAGER_PERMISSIONS = ["nowhere.view_everything"]

    [error] = plugins.check()

    assert "'nowhere.view_everything'" in error.msg


@pytest.mark.django_db
def test_manage_check_stops_on_a_path_from_the_environment():
    result = manage("check", THROUGHLINE_EVENT_HOOKS="instore.hooks.on_evnet")

    assert result.returncode != 0
    assert "'instore.hooks.on_evnet'" in result.stderr
    assert "plugins.E003" in result.stderr
