"""Verbs of apps routing works with when they are installed (the engagement arbiter and
its after-hours acknowledgement): a setting names each by dotted path."""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.utils.module_loading import import_string


def optional(path: str) -> Callable | None:
    """The function at `path`, or None when the setting is blank or its app is absent."""
    if not path or not apps.is_installed(path.split(".")[0]):
        return None
    try:
        return import_string(path)
    except ImportError:
        return None  # the app is installed, the function not (yet): do without
