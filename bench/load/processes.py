"""The platform for the load run: `make run`'s five processes, on the run's own database.

The same commands as quickstart/__main__.py starts (gunicorn with sync workers, uvicorn
for the websockets, a Celery worker, Celery beat, `manage.py react`), with production
settings (DEBUG off, bench/_webhooks.py's environment) and one environment for all five,
so the visitor tokens gunicorn signs are the ones uvicorn reads. What differs from a
deployment, and why:

- every request comes from 127.0.0.1, so the per-address limits and the API key's rate
  limit are off (they would refuse a crowd arriving from one address);
- cookies are not `Secure`: agents log in over plain HTTP on the loopback;
- `collectstatic` runs first, into the run's folder, as once per release in production
  (the console's pages need its manifest);
- SMS and calls go to the in-memory backends: nothing leaves the machine;
- the channel layer's prefix, the reactions stream and the Celery queue are the run's
  own, so neither a `make run` nor another benchmark on the same Redis sees its work.

Each process runs in its own session with its output in a file of the run's folder; it
gets SIGTERM if the driver dies (even killed outright), and `stop` ends every one, its
workers included, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import bench
from bench import _webhooks as webhooks

LIMITS_OFF = "session=0;identify=0;track=0;phone=0;socket=0;message=0;scan=0;page=0"
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A free loopback port below 32768, away from bench/_webhooks.py's range."""
    return bench.free_port(19_700, 20_700)


def environment(workdir: Path, *, run: str, ws_port: int) -> dict[str, str]:
    """One environment for every process of the run."""
    base = webhooks.Server(workdir).environment()  # production settings, a fresh SECRET_KEY
    return {
        **base,
        "API_RATE_LIMIT": "0",
        "ADDRESS_RATE_LIMITS": LIMITS_OFF,
        "SESSION_COOKIE_SECURE": "false",
        "SMS_BACKEND": "channels_adapters.sms.backends.LocmemBackend",
        "VOICE_BACKEND": "channels_adapters.voice.backends.LocmemBackend",
        "WEBSOCKET_BASE_URL": f"ws://127.0.0.1:{ws_port}",
        "CHANNEL_PREFIX": f"throughline-{run}",
        "THROUGHLINE_REACTIONS_STREAM": f"throughline-{run}:reactions",
        "CELERY_TASK_DEFAULT_QUEUE": f"throughline-{run}",
        "PYTHONUNBUFFERED": "1",
    }


class Web(webhooks.Server):
    """gunicorn as bench/_webhooks.py runs it (sync workers, ready on /readyz), with the
    run's environment rather than a fresh one."""

    def __init__(self, workdir: Path, env: dict[str, str]):
        super().__init__(workdir)
        self.env = env

    def environment(self) -> dict[str, str]:
        return self.env


class Platform:
    """Starts and stops the five processes."""

    def __init__(self, workdir: Path, env: dict[str, str], ws_port: int):
        self.workdir, self.env, self.ws_port = workdir, env, ws_port
        self.web = Web(workdir, env)
        self.others: dict[str, subprocess.Popen] = {}

    def commands(self) -> dict[str, list[str]]:
        python = sys.executable
        return {
            "ws": [
                *[python, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"],
                *["--port", str(self.ws_port), "--lifespan", "off", "--log-level", "warning"],
            ],
            "worker": [
                *[python, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING"],
                *["--concurrency", "2", "--hostname", f"bench-load-{os.getpid()}@%h"],
            ],
            "beat": [
                *[python, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING"],
                *["--schedule", str(self.workdir / "celerybeat-schedule")],
            ],
            "reactions": [python, "manage.py", "react"],
        }

    def start(self) -> None:
        # production serves the admin's files from the manifest collectstatic writes
        # (into the run's STATIC_ROOT): once per release, as docs/operations.md says
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=webhooks.BASE_DIR,
            env=self.env,
            check=True,
        )
        for name, argv in self.commands().items():
            with open(self.workdir / f"{name}.log", "wb") as log:
                # Our own interpreter running the project's own commands: no outside input.
                self.others[name] = subprocess.Popen(  # noqa: S603
                    argv,
                    cwd=webhooks.BASE_DIR,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                    preexec_fn=webhooks._stop_with_parent,
                )
        self.web.start()  # waits for /readyz and both workers
        deadline = time.monotonic() + 60
        while not _port_open(self.ws_port):
            self.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not listen in 60 s:\n{self.tail('ws')}")
            time.sleep(0.2)

    def check(self) -> None:
        """Raise if a process ended on its own: the run would measure a broken platform."""
        for name, process in self.others.items():
            if _ended(process):
                raise RuntimeError(f"{name} exited on its own:\n{self.tail(name)}")
        if self.web.process is not None and self.web.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited {self.web.process.returncode}")

    def tail(self, name: str, lines: int = 30) -> str:
        if name == "web":
            return self.web.tail(lines)
        try:
            text = (self.workdir / f"{name}.log").read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM every process group, wait, then SIGKILL the groups still there. Each
        leader is reaped only after its group was killed, so its id (the group's) cannot
        have been given to another process in between."""
        self.web.stop()
        for process in self.others.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and not all(map(_ended, self.others.values())):
            time.sleep(0.1)
        for process in self.others.values():
            # the group: Celery's pool processes would outlive a killed parent
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _ended(process: subprocess.Popen) -> bool:
    """Whether the process exited, without reaping it (its id stays reserved)."""
    if process.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
