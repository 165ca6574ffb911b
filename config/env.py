"""The one reader of the environment for config/settings.py: strict, and file-aware.

- A boolean must say yes or no: `DEBUG=ture` stops the start with a message naming the
  variable, where django-environ alone would read it as False and carry on.
- Every variable can come from a file instead: `SECRET_KEY_FILE=/run/secrets/key` reads
  the secret from that file (Docker and Kubernetes secrets), for any NAME as NAME_FILE.
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
