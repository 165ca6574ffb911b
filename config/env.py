"""The one reader of the environment for config/settings/: strict, and file-aware.

- A boolean must say yes or no: `DEBUG=ture` stops the start with a message naming the
  variable, where django-environ alone would read it as False and carry on.
- Every variable can come from a file instead: `SECRET_KEY_FILE=/run/secrets/key` reads
  the secret from that file (Docker and Kubernetes secrets), for any NAME as NAME_FILE.
- A value is what it says: django-environ reads one that starts with `$` as the name of
  another variable (`$OTHER`), so a secret drawn with `$` first (Django's
  `get_random_secret_key()` draws from a set with `$` in it) was read as empty, or as the
  default, without a word. Here it is the value.
- A plug setting (base/plugins.py) set to an empty value is an empty list, not "unset":
  django-environ reads `NAME=` as its default, so `THROUGHLINE_EVENT_HOOKS=` could never
  switch the in-store hook off.
"""

from __future__ import annotations

import environ
from django.core.exceptions import ImproperlyConfigured
from environ.fileaware_mapping import FileAwareMapping

FALSE_STRINGS = ("false", "off", "no", "n", "0", "")


class SecretFiles(FileAwareMapping):
    """NAME_FILE's contents stand for NAME, less the line end editors and `echo` leave."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        return value.rstrip("\r\n") if self.env.get(key + "_FILE") else value


class StrictEnv(environ.FileAwareEnv):
    ENVIRON = SecretFiles()

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        name = f"{self.prefix}{var}"
        raw = self.ENVIRON.get(name)
        if isinstance(raw, str) and raw.startswith("$"):  # a value, not a `$OTHER` proxy
            if cast is None and name in self.scheme:
                cast = self.scheme[name]
            return self.parse_value(raw, cast) if cast else raw
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)

    def bool(self, var, default=environ.Env.NOTSET):
        value = self.get_value(var, cast=str, default=default)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in self.BOOLEAN_TRUE_STRINGS:
            return True
        if text in FALSE_STRINGS:
            return False
        raise ImproperlyConfigured(
            f"{var} must be true or false (also yes/no, on/off, 1/0), not {value!r}."
        )

    def plugs(self, var, *, keyed=False):
        """A plug setting: None when unset (the apps' declarations stand), else exactly
        what it says: comma-separated dotted paths, or `channel=dotted.path` pairs when
        keyed; an empty value is empty."""
        try:
            raw = self.ENVIRON[var]
        except KeyError:
            return None
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if not keyed:
            return items
        mapping = {}
        for item in items:
            channel, equals, path = (part.strip() for part in item.partition("="))
            if not (channel and equals and path):
                raise ImproperlyConfigured(
                    f'{var} is comma-separated "channel=dotted.path" pairs, not {item!r}.'
                )
            mapping[channel] = path
        return mapping
