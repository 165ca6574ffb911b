"""The quick start's demo superuser: `admin`, with a random password made once.

Run as `python -m quickstart.demo_admin` by the launcher, only on the embedded database.
The password lives in `STATE_DIR/demo-admin-password` (git-ignored, mode 0600), so every
later `make run` prints the same one; `make clean-state` forgets both.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

USERNAME = "admin"
PASSWORD_FILE = "demo-admin-password"  # noqa: S105  (a file name, not a password)


def password_file(state_dir: Path) -> Path:
    return state_dir / PASSWORD_FILE


def read_password(state_dir: Path) -> str | None:
    path = password_file(state_dir)
    if not path.exists():
        return None
    return path.read_text().strip() or None


def _stored_or_new_password(state_dir: Path) -> tuple[str, bool]:
    """The kept password, or a new one written to the file; and whether it is new."""
    existing = read_password(state_dir)
    if existing:
        return existing, False
    state_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    path = password_file(state_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return password, True


def ensure_demo_admin() -> str:
    """Create the superuser if missing; return a line saying what happened."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    password, new = _stored_or_new_password(settings.STATE_DIR)
    users = get_user_model().objects
    user = users.filter(username=USERNAME).first()
    if user is None:
        users.create_superuser(USERNAME, email="admin@example.com", password=password)
        return f"Created the demo superuser {USERNAME!r}."
    if new:
        # The account outlived its password file: give it the new password, so the one
        # printed works.
        user.set_password(password)
        user.save(update_fields=["password"])
        return f"Reset the password of the demo superuser {USERNAME!r} (its file was missing)."
    if not user.check_password(password):
        return (
            f"The password of {USERNAME!r} was changed since it was made: the one kept in "
            f"{password_file(settings.STATE_DIR)} no longer works."
        )
    return f"The demo superuser {USERNAME!r} exists."


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(ensure_demo_admin())


if __name__ == "__main__":
    main()
