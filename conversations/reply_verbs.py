"""The reply verbs: how a channel sends a message the shop writes (kind `reply_verbs`).

Each channel adapter declares its verb on its AppConfig (`plugs = {"reply_verbs":
{"web": "..."}}`, THROUGHLINE_REPLY_VERBS overrides them), so the console's reply box and
engagement's arbiter reach a channel without importing its adapter: an app that sends
asks `reply_verb("web")` and gets the verb or None when no installed app answers there.
"""

from __future__ import annotations

from collections.abc import Callable

from base import plugins


def reply_verb(channel: str) -> Callable | None:
    """The send verb of `channel`, None when no installed app declares one."""
    return plugins.mapping("reply_verbs").get(channel)


def reply_channels() -> list[str]:
    """The channels some installed app can send on, in declaration order."""
    return list(plugins.mapping("reply_verbs"))
