"""Child processes of the `make run` launcher: start them, prefix their output, stop them.

Each child runs in its own session, so a Ctrl-C in the terminal reaches only the launcher,
which then stops the children in order (SIGTERM, then SIGKILL to the whole process group
after a timeout). On Linux each child also asks the kernel for SIGTERM should the launcher
die without cleaning up (even by SIGKILL), so nothing keeps running on its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_output_lock = threading.Lock()
_COLOURS = ["36", "33", "35", "32", "34", "31"]


def say(text: str = "", *, stream=None) -> None:
    """Print whole lines, never interleaved with the children's output."""
    stream = stream or sys.stdout
    with _output_lock:
        stream.write(text + "\n")
        stream.flush()


def _die_with_launcher_hook() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    launcher = os.getpid()

    def hook() -> None:  # runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != launcher:  # the launcher died before prctl took effect
            os._exit(1)

    return hook


class Child:
    """One child process whose output is copied line by line, prefixed with its name."""

    _count = 0

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        cwd: Path,
        program: str = "",
        width: int = 8,
        keep_output=False,
    ):
        self.name = name
        self.program = program or name
        self.argv = argv
        colour = _COLOURS[Child._count % len(_COLOURS)]
        Child._count += 1
        label = f"{name:<{width}}|"
        self.prefix = f"\033[{colour}m{label}\033[0m " if sys.stdout.isatty() else f"{label} "
        self.lines: list[str] | None = [] if keep_output else None
        self.proc = subprocess.Popen(  # noqa: S603  (our own argv, no shell)
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_launcher_hook(),
        )
        self._pump = threading.Thread(target=self._copy_output, name=f"output-{name}", daemon=True)

    def start_output(self) -> None:
        """Copy the output from now on (started after all forks: fork + threads do not mix)."""
        self._pump.start()

    def _copy_output(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            if self.lines is not None:
                self.lines.append(line)
            say(self.prefix + line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    def describe_exit(self) -> str:
        code = self.proc.returncode
        if code is not None and code < 0:
            try:
                return f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"was killed by signal {-code}"
        return f"exited with code {code}"

    def terminate(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)

    def kill_group(self) -> None:
        """SIGKILL the child's whole process group (its workers too), if anything is left."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def finish_output(self, timeout: float = 2.0) -> None:
        if self._pump.is_alive():
            self._pump.join(timeout)


def stop_all(children: list[Child], *, timeout: float, hurry: Callable[[], bool]) -> None:
    """SIGTERM every child, wait up to `timeout` (less if `hurry()`), then SIGKILL the rest."""
    running = [c for c in children if c.poll() is None]
    if running:
        say(f"Stopping {', '.join(c.name for c in running)}...")
    for child in running:
        child.terminate()
    deadline = time.monotonic() + timeout
    while any(c.poll() is None for c in running) and time.monotonic() < deadline and not hurry():
        time.sleep(0.1)
    for child in children:
        if child.poll() is None:
            say(f"{child.name} is still running: killing it.")
        # also reaps strays: workers whose parent is gone keep the process group alive
        child.kill_group()
        child.proc.wait()
    for child in children:
        child.finish_output()
