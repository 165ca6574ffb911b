"""Packaging: the lock agrees with pyproject.toml, and a built wheel is a whole project.

`make` installs requirements/lock.txt (README, "Installing"); these tests fail when
pyproject.toml asks for something the lock does not pin, or pins outside the specifier
(run `make lock`). The wheel tests build the project the way `pip install .` does, with
no network, and run Django from the unpacked wheel in another directory: every app's
files must be inside and `check` must pass, with no help from the source tree.
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = ROOT / "requirements" / "lock.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
# uv writes who asked for each package; these two are the lock's own inputs (Makefile `lock`)
FROM_PYPROJECT = "throughline (pyproject.toml)"
FROM_BUILD_IN = "-r requirements/build.in"


def _locked() -> dict[str, tuple[str, set[str]]]:
    """Each pinned package: its version and what the lock says pulled it in."""
    pins: dict[str, tuple[str, set[str]]] = {}
    current = None
    for line in LOCK.read_text().splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match[1])
            pins[current] = (match[2], set())
        elif current and line.strip().startswith("#"):
            via = re.sub(r"^via\b", "", line.strip().lstrip("#").strip()).strip()
            if via:
                pins[current][1].add(via)
    return pins


def _direct() -> dict[str, list[Requirement]]:
    """pyproject's own requirements, with the extras `make` installs, by where they come from."""
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    found = {
        FROM_PYPROJECT: project["dependencies"] + extras["dev"] + extras["embedded"],
        FROM_BUILD_IN: PYPROJECT["build-system"]["requires"],
    }
    return {
        source: [req for req in map(Requirement, lines) if not req.marker or req.marker.evaluate()]
        for source, lines in found.items()
    }


def test_every_requirement_of_pyproject_is_pinned_at_a_version_it_allows():
    pins = _locked()
    wrong = []
    for req in [req for reqs in _direct().values() for req in reqs]:
        name = canonicalize_name(req.name)
        if name not in pins:
            wrong.append(f"{req} is not in the lock")
        elif not req.specifier.contains(pins[name][0], prereleases=True):
            wrong.append(f"{req} but the lock pins {pins[name][0]}")
    assert not wrong, "requirements/lock.txt is stale, run `make lock`: " + "; ".join(wrong)


def test_the_lock_pins_nothing_for_pyproject_that_it_no_longer_asks_for():
    pins = _locked()
    for source, reqs in _direct().items():
        asked = {canonicalize_name(req.name) for req in reqs}
        claimed = {name for name, (_version, via) in pins.items() if source in via}
        assert claimed == asked, (
            f"the lock and {source} disagree (run `make lock`): "
            f"only in the lock {sorted(claimed - asked)}, only asked for {sorted(asked - claimed)}"
        )


def test_every_pin_carries_a_hash():
    # `pip install --require-hashes` (the Makefile) refuses a lock with a bare pin anyway;
    # this says so before an install is tried.
    text = LOCK.read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    bare = [entry.split(" ")[0] for entry in entries if PIN.match(entry) and "--hash=" not in entry]
    assert not bare


def _project_apps():
    """The INSTALLED_APPS that live in this repository (not Django's, nor the .venv's)."""
    return [
        app
        for app in apps.get_app_configs()
        if Path(app.path) == ROOT.joinpath(*app.name.split("."))
    ]


def _files(directory: Path) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a copy of the tree as `pip install .` would build it."""
    source = tmp_path_factory.mktemp("source")
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy(ROOT / name, source / name)
    # every top-level package; which of them the wheel takes is pyproject's to say
    for package in ROOT.iterdir():
        if (package / "__init__.py").is_file() and package.name != "tests":
            shutil.copytree(
                package, source / package.name, ignore=shutil.ignore_patterns("__pycache__")
            )
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])",
            str(dist),
        ],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (built,) = dist.glob("throughline-*.whl")
    return built


def test_the_wheel_holds_every_file_of_every_app(wheel):
    inside = set(zipfile.ZipFile(wheel).namelist())
    project_apps = _project_apps()
    assert {app.name for app in project_apps} >= {"conversations", "console", "privacy"}
    for app in project_apps:
        missing = _files(Path(app.path)) - inside
        assert not missing, f"{app.name}: the wheel lacks {sorted(missing)[:10]}"
    # folders the settings name outside any app would need package data of their own
    for folder in [*settings.TEMPLATES[0]["DIRS"], *getattr(settings, "STATICFILES_DIRS", [])]:
        if Path(folder).is_dir() and Path(folder).is_relative_to(ROOT):
            assert not (_files(Path(folder)) - inside), f"{folder} is not in the wheel"


# Run from the unpacked wheel, in another directory: the checks, both entry points, and every
# template and static file each app has found where the wheel put it.
INSTALLED_RUN = """
import sys
from pathlib import Path

import django
from django.core.management import call_command

site = Path(sys.argv[1])
# The .venv's editable install would find a module the wheel lacks in the source tree; a
# `pip install .` has no such fallback, so neither does this run.
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in f.__module__]
sys.path_hooks[:] = [h for h in sys.path_hooks if "__editable__" not in h.__module__]
sys.path_importer_cache.clear()
django.setup()
import config

assert Path(config.__file__).is_relative_to(site), config.__file__
call_command("check")
from config.asgi import application  # noqa: F401, E402
from config.wsgi import application  # noqa: F401, E402
from django.contrib.staticfiles import finders  # noqa: E402
from django.template.loader import get_template  # noqa: E402

for line in sys.stdin.read().split():
    kind, name = line.split(":", 1)
    found = get_template(name).origin.name if kind == "template" else finders.find(name)
    assert found and Path(found).is_relative_to(site), (name, found)
print("ok")
"""


def test_the_installed_wheel_passes_check_away_from_the_source_tree(wheel, tmp_path):
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    wanted = []
    for app in _project_apps():
        for kind in ["templates", "static"]:
            folder = Path(app.path) / kind
            if folder.is_dir():
                wanted += [
                    f"{kind.removesuffix('s')}:{path.relative_to(folder).as_posix()}"
                    for path in folder.rglob("*")
                    if path.is_file()
                ]
    assert any(line.startswith("template:customer/") for line in wanted)
    env = {
        **os.environ,  # the test run's DATABASE_URL and REDIS_URL (set even when embedded)
        "PYTHONPATH": str(site),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    run = subprocess.run(
        [sys.executable, "-c", INSTALLED_RUN, str(site)],
        cwd=elsewhere,
        env=env,
        input="\n".join(wanted),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().endswith("ok")
