"""Conditions of contextual actions: small JSON tests over the customer context.

`{"frustration.missed_calls": {"gte": 2}, "open_cart": {"exists": true}}` holds when every
path's tests hold. A path walks dicts of the context (`CustomerContext.extra` plus `name`,
`last_channel`, `channels_used`); a missing step reads as None. Tests: `exists`, `eq`,
`gte`, `lte`, `contains` (a list or a string). Numbers compare as floats, so the decimal
strings of the commerce context (`cart_value`) compare too.
"""

from __future__ import annotations

from typing import Any

TESTS = ("exists", "eq", "gte", "lte", "contains")


class ConditionError(ValueError):
    """The condition is not a mapping of paths to known tests."""


def check_condition(condition: Any) -> None:
    if not isinstance(condition, dict):
        raise ConditionError('A JSON object of paths to tests, e.g. {"a.b": {"gte": 2}}.')
    for path, tests in condition.items():
        if not isinstance(tests, dict) or not tests:
            raise ConditionError(f"{path}: a JSON object of tests, e.g. {{'gte': 2}}.")
        unknown = set(tests) - set(TESTS)
        if unknown:
            raise ConditionError(f"{path}: unknown test {sorted(unknown)[0]!r}; use {TESTS}.")


def lookup(values: dict, path: str) -> Any:
    value: Any = values
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def holds(condition: dict, values: dict) -> bool:
    """Whether every test of the condition holds over `values`."""
    for path, tests in condition.items():
        value = lookup(values, path)
        for test, expected in tests.items():
            if test == "exists" and (value not in (None, "", [], {})) != bool(expected):
                return False
            if test == "eq" and value != expected:
                return False
            if test in ("gte", "lte"):
                number, bound = _number(value), _number(expected)
                if number is None or bound is None:
                    return False
                if (test == "gte" and number < bound) or (test == "lte" and number > bound):
                    return False
            if test == "contains" and (not isinstance(value, list | str) or expected not in value):
                return False
    return True


def context_values(context) -> dict:
    """The dict a condition reads from a conversations.context.CustomerContext.

    Conditions are data (paths a manager types in the admin), so they read the parts'
    JSON view, `context.extra`, on purpose: code reads the typed parts instead."""
    return {
        **context.extra,
        "name": context.name,
        "last_channel": context.last_channel,
        "channels_used": context.channels_used,
        "open_case": {"intent": context.open_case.intent} if context.open_case else None,
    }
