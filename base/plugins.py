"""Plugs: what apps add to the core, declared by each app, switched by settings.

An app declares what it plugs in on its AppConfig, as a class attribute:

    class InstoreConfig(AppConfig):
        plugs = {
            "event_hooks": ["instore.hooks.on_event"],
            "context_providers": ["instore.context.provide"],
        }

(the channel-keyed kinds, `senders` and `reply_verbs`, take `{"sms": "dotted.path"}`).
Each kind has one setting (KINDS below). Unset (None), the kind is what the installed apps
declare, in INSTALLED_APPS order; set, it replaces the declarations exactly: an empty value
switches every one off, a reordered list reorders, a dict names every channel.

Readers ask `paths(kind)`, `enabled(kind)` (imported, in order), `named(kind)` (both) or
`mapping(kind)` (the keyed kinds). The setting is read on every call, so a test's
`settings.X = [...]` takes effect at once; imports are cached per list of paths. A
declaration of an unknown kind stops the start (conversations' AppConfig.ready calls
`validate`); a path that does not import fails `manage.py check` (`check`, registered by
the same ready) and its first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Kind:
    name: str
    setting: str
    keyed: bool = False  # {"channel": "dotted.path"} rather than a list
    importable: bool = True  # manager_permissions are "app_label.codename", not code


KINDS = {
    kind.name: kind
    for kind in [
        # conversations/journal.py: after commit, in the recording process (cheap ones only)
        Kind("event_hooks", "THROUGHLINE_EVENT_HOOKS"),
        # conversations/reactions.py: off the request path, by `manage.py react`
        Kind("event_reactions", "THROUGHLINE_EVENT_REACTIONS"),
        # conversations/identities.py: (survivor, merged) inside the merge transaction
        Kind("merge_hooks", "THROUGHLINE_MERGE_HOOKS"),
        # conversations/splits.py: (holder=, split=) inside the split transaction
        Kind("split_hooks", "THROUGHLINE_SPLIT_HOOKS"),
        # conversations/identities.py: (customer=, visitor_id=) when a visitor id becomes
        # a customer's identity (visitors.become_customer, or linked to a known customer)
        Kind("visitor_hooks", "THROUGHLINE_VISITOR_HOOKS"),
        # conversations/context.py: what each app adds to the customer context
        Kind("context_providers", "THROUGHLINE_CONTEXT_PROVIDERS"),
        Kind("headline_parts", "THROUGHLINE_HEADLINE_PARTS"),
        # console/suggestions.py: rank(customer, context, suggestions) -> suggestions
        Kind("suggestion_rankers", "THROUGHLINE_SUGGESTION_RANKERS"),
        # console/roles.py: other apps' permissions the Managers group holds
        Kind("manager_permissions", "THROUGHLINE_MANAGER_PERMISSIONS", importable=False),
        # engagement/arbiter.py: gate(customer, *, topic, channel, now) -> reason or None
        Kind("engagement_gates", "ENGAGEMENT_GATES"),
        # privacy: each app erases / exports the personal data it holds
        Kind("erasure_hooks", "PRIVACY_ERASURE_HOOKS"),
        Kind("export_hooks", "PRIVACY_EXPORT_HOOKS"),
        # conversations/consent.py: told of every consent statement; asked about addresses
        Kind("consent_hooks", "THROUGHLINE_CONSENT_HOOKS"),
        Kind("suppression_checks", "THROUGHLINE_SUPPRESSION_CHECKS"),
        # channels_adapters/webchat/offers.py: a shopper opened the widget
        Kind("presence_hooks", "WIDGET_PRESENCE_HOOKS"),
        # channels_adapters/voice/missed.py: (missed_call_event, phone=) when missed calls
        # made a case hot, in the transaction that recorded the call
        Kind("missed_call_hooks", "VOICE_MISSED_CALL_HOOKS"),
        # conversations/send_checks.py: asked at every send attempt of an outbox row
        Kind("send_checks", "THROUGHLINE_SEND_CHECKS"),
        # conversations/outbox.py: the transport of each channel the outbox sends on
        Kind("senders", "THROUGHLINE_SENDERS", keyed=True),
        # console/replies.py: the verb the reply box answers each channel with
        Kind("reply_verbs", "THROUGHLINE_REPLY_VERBS", keyed=True),
    ]
}


def paths(kind: str) -> list[str]:
    """The kind's dotted paths in order (for a keyed kind, its channels' paths)."""
    chosen = _chosen(_kind(kind))
    return list(chosen.values()) if isinstance(chosen, dict) else list(chosen)


def enabled(kind: str) -> list[Any]:
    """The kind's plugs, imported, in order (Any: each kind's reader knows their type)."""
    return _enabled(kind, paths(kind))


def named(kind: str) -> list[tuple[str, Any]]:
    """The kind's plugs as (dotted path, plug), in order: for readers that log, park or
    record by path."""
    chosen = paths(kind)  # read once: record() asks for the reactions at every event
    return list(zip(chosen, _enabled(kind, chosen), strict=True))


def _enabled(kind: str, chosen: Sequence[str]) -> list[Any]:
    spec = _kind(kind)
    if not spec.importable:
        raise TypeError(f"{kind} are names, not code: read plugins.paths({kind!r}).")
    return list(_imported(spec.setting, tuple(chosen)))


def mapping(kind: str) -> dict[str, Any]:
    """A keyed kind's plugs by channel, imported, in order."""
    spec = _kind(kind)
    if not spec.keyed:
        raise TypeError(f"{kind} is a list: read plugins.enabled({kind!r}).")
    chosen = _chosen(spec)
    channels = chosen if isinstance(chosen, dict) else {}  # a keyed kind's shape is checked
    imported = _imported(spec.setting, tuple(channels.values()))
    return dict(zip(channels, imported, strict=True))


def declared(kind: str) -> list[str] | dict[str, str]:
    """What the installed apps declare for `kind`, in INSTALLED_APPS order."""
    found = _declared(_kind(kind).name)
    return dict(found) if isinstance(found, dict) else list(found)


def validate(app_configs: Iterable[AppConfig]) -> None:
    """Stop the start when an app declares a kind that does not exist, or a wrong shape."""
    problems = [problem for config in app_configs for problem in _declaration_problems(config)]
    if problems:
        raise ImproperlyConfigured("Plug declarations: " + " ".join(problems))


def check(app_configs=None, **kwargs) -> list[checks.Error]:
    """System check: every enabled path of every kind imports; every setting has its shape."""
    errors = [
        checks.Error(problem, id="plugins.E001")
        for config in apps.get_app_configs()
        for problem in _declaration_problems(config)
    ]
    if errors:
        return errors  # the rest reads the declarations
    for spec in KINDS.values():
        override = getattr(settings, spec.setting, None)
        shape = _override_problem(spec, override)
        if shape:
            errors.append(checks.Error(shape, id="plugins.E002"))
            continue
        source = f"setting {spec.setting}" if override is not None else "the apps' plugs"
        try:
            chosen = paths(spec.name)
        except ImproperlyConfigured as exc:  # a channel declared by two apps
            errors.append(checks.Error(str(exc), id="plugins.E002"))
            continue
        for path in chosen:
            problem = _path_problem(spec, path)
            if problem:
                errors.append(
                    checks.Error(
                        f"{spec.name}: {path!r} ({source}) {problem}",
                        hint=f"Fix the dotted path, or set {spec.setting} without it.",
                        id="plugins.E003",
                    )
                )
    return errors


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise LookupError(f"No plug kind {kind!r}; the kinds are {', '.join(KINDS)}.") from None


def _chosen(spec: Kind) -> Sequence[str] | dict[str, str]:
    override = getattr(settings, spec.setting, None)
    if override is None:
        return _declared(spec.name)
    problem = _override_problem(spec, override)
    if problem:
        raise ImproperlyConfigured(problem)
    return override


def collect(kind: str, app_configs: Iterable[AppConfig]) -> list[str] | dict[str, str]:
    """What these apps declare for `kind`, in their order; a path declared twice counts
    once, a channel declared by two apps is refused."""
    spec = _kind(kind)
    keyed: dict[str, str] = {}
    listed: list[str] = []
    for config in app_configs:
        value = getattr(config, "plugs", {}).get(kind)
        if value is None:
            continue
        if spec.keyed:
            taken = [channel for channel in value if channel in keyed]
            if taken:
                raise ImproperlyConfigured(
                    f"{kind}: {', '.join(taken)} declared twice (again by {config.label})."
                )
            keyed.update(value)
        else:
            listed.extend(path for path in value if path not in listed)
    return keyed if spec.keyed else listed


@cache
def _declared(kind: str) -> tuple[str, ...] | dict[str, str]:
    found = collect(kind, apps.get_app_configs())
    return found if isinstance(found, dict) else tuple(found)


@cache
def _imported(setting: str, dotted: tuple[str, ...]) -> tuple[object, ...]:
    imported = []
    for path in dotted:
        try:
            imported.append(import_string(path))
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"{path!r} (enabled by {setting} or an app's plugs) does not import: {exc}"
            ) from exc
    return tuple(imported)


def _declaration_problems(config: AppConfig) -> list[str]:
    plugs = getattr(config, "plugs", {})
    if not isinstance(plugs, dict):
        return [f"{config.label}.plugs must be a dict of kind -> paths."]
    problems = []
    for kind, value in plugs.items():
        spec = KINDS.get(kind)
        if spec is None:
            problems.append(
                f"{config.label} declares an unknown plug kind {kind!r}; "
                f"the kinds are {', '.join(KINDS)}."
            )
        elif not _has_shape(spec, value):
            problems.append(f"{config.label} declares {kind} as {_expected(spec)}, not {value!r}.")
    return problems


def _override_problem(spec: Kind, override) -> str:
    if override is None or _has_shape(spec, override):
        return ""
    return f"{spec.setting} must be {_expected(spec)} (or unset), not {override!r}."


def _has_shape(spec: Kind, value) -> bool:
    if spec.keyed:
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def _expected(spec: Kind) -> str:
    return '{"channel": "dotted.path"}' if spec.keyed else "a list of dotted paths"


def _path_problem(spec: Kind, path: str) -> str:
    if not spec.importable:
        app_label, _, codename = path.partition(".")
        try:
            apps.get_app_config(app_label)
        except LookupError:
            return 'is not "app_label.codename" of an installed app'
        return "" if codename else 'is not "app_label.codename"'
    try:
        import_string(path)
    except ImportError as exc:
        return f"does not import: {exc}"
    return ""


def _forget_declarations(*, setting: str, **kwargs) -> None:
    # a test that swaps INSTALLED_APPS swaps the declarations too
    if setting == "INSTALLED_APPS":
        _declared.cache_clear()


setting_changed.connect(_forget_declarations, dispatch_uid="base.plugins.forget")
