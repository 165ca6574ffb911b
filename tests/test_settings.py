"""Production settings: they refuse to start incomplete, and pass `check --deploy` when complete."""

import os
import subprocess
import sys

from django.conf import settings
from django.core.management.utils import get_random_secret_key

PRODUCTION = {
    "SECRET_KEY": get_random_secret_key(),
    "ALLOWED_HOSTS": "shop.example.com",
    "PUBLIC_BASE_URL": "https://shop.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/throughline",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    # the suppression list's own key (docs/privacy.md): without it check --deploy warns
    "SUPPRESSION_HASH_KEY": get_random_secret_key(),
}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DEBUG"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_required_variable_stops_production_with_its_name():
    env = {k: v for k, v in PRODUCTION.items() if k != "PUBLIC_BASE_URL"}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert (
        "Missing required setting(s) for production (DEBUG is off): PUBLIC_BASE_URL."
        in result.stderr
    )


def test_complete_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_boolean_that_is_neither_yes_nor_no_stops_the_start_with_its_name():
    result = manage("check", env={**PRODUCTION, "SECURE_SSL_REDIRECT": "ture"})

    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT must be true or false" in result.stderr


def test_every_setting_can_be_read_from_a_file(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}

    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(repr(settings.SECRET_KEY))",
        env={**env, "SECRET_KEY_FILE": str(secret)},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == repr(PRODUCTION["SECRET_KEY"])


def test_a_boolean_read_from_a_file_is_as_strict(tmp_path):
    flag = tmp_path / "ssl_redirect"
    flag.write_text("ture\n")

    result = manage("check", env={**PRODUCTION, "SECURE_SSL_REDIRECT_FILE": str(flag)})

    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT must be true or false" in result.stderr


def test_a_channel_plug_variable_that_is_not_pairs_stops_the_start_with_its_name():
    result = manage("check", env={**PRODUCTION, "THROUGHLINE_SENDERS": "channels_adapters.sms"})

    assert result.returncode != 0
    assert 'THROUGHLINE_SENDERS is comma-separated "channel=dotted.path" pairs' in result.stderr


def test_a_secret_that_starts_with_a_dollar_is_read_as_it_is():
    """django-environ alone reads `$abc` as a reference to a variable `abc`: a random
    secret that happens to start with `$` became empty."""
    secret = "$" + get_random_secret_key()[1:]

    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(repr(settings.SECRET_KEY), "
        "repr(settings.SUPPRESSION_HASH_KEY))",
        env={**PRODUCTION, "SECRET_KEY": secret, "SUPPRESSION_HASH_KEY": secret},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"{secret!r} {secret!r}"
