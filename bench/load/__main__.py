"""The whole-journey load run: `python -m bench.load` (`make bench-load`; about 3 minutes).

1. A scratch database, `<the configured database>_bench_load`, made, migrated and seeded
   (bench/load/seed.py: the shop's site, store, QR placement, API key and agents).
2. `make run`'s five processes on it, on loopback ports below 32768, with production
   settings (bench/load/processes.py).
3. Locust users replay the founding journey (bench/load/locustfile.py): the single path
   (one shopper after another), load stages at multiples of its rate, the single path
   again. Bounded: each stage `BENCH_LOAD_STAGE_SECONDS` (25), `BENCH_LOAD_SOLO_JOURNEYS`
   (10) on each side, stages `BENCH_LOAD_STAGES` (0.75,1,1.25: multiples of the single
   path's journeys per minute).
4. The journal is checked (bench/load/verify.py): every event the journeys sent stored
   exactly once, in order, in one conversation per shopper.
5. Figures: per-step p50/p99 of every phase, each step's p99 under load over its
   single-path p99, journeys per minute; the verdicts (bench/load/figures.py).

Every process started here is stopped at the end, on an error or a Ctrl-C too, and the
scratch database is dropped.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from django.conf import settings

from bench import _webhooks as webhooks  # first: it sets Django up (port, Twilio token)
from bench import release_connections, scratch_database
from bench.load import figures as report
from bench.load.processes import Platform, environment, free_port
from bench.load.seed import ORIGIN, SHOP_NUMBER, seed_platform
from bench.load.verify import verify
from conversations.models import Outbox
from conversations.models_reactions import PendingReaction

DATABASE = f"{settings.DATABASES['default']['NAME']}_bench_load"
AGENTS = 4
SOLO_JOURNEYS = int(os.environ.get("BENCH_LOAD_SOLO_JOURNEYS", 10))
STAGE_SECONDS = float(os.environ.get("BENCH_LOAD_STAGE_SECONDS", 25))
STAGES = [float(m) for m in os.environ.get("BENCH_LOAD_STAGES", "0.75,1,1.25").split(",")]
SETTLE_SECONDS = 15  # at most, for the worker and `react` to finish what the run left


def _stop_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds: the processes stop, the scratch database goes


def swarm(config: dict, workdir: Path) -> dict:
    """Run the Locust process to its end (bounded); its result."""
    config_path, out_path = workdir / "swarm.json", workdir / "result.json"
    config_path.write_text(json.dumps(config))
    budget = 600 + (len(STAGES) + 2) * STAGE_SECONDS
    # our own interpreter running a module of this package
    with subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench.load.locustfile", str(config_path), str(out_path)],
        cwd=webhooks.BASE_DIR,
        preexec_fn=webhooks._stop_with_parent,
    ) as process:
        try:
            code = process.wait(timeout=budget)
        finally:
            if process.poll() is None:
                process.kill()
    if code != 0:
        raise RuntimeError(f"the Locust process exited {code}")
    return json.loads(out_path.read_text())


def settle(platform: Platform) -> str:
    """Wait (bounded) for the SMS replies to be delivered and the reactions to run; say
    what is left, which is no loss (both retry) but tells whether the back end kept up."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        pending = Outbox.objects.exclude(status=Outbox.Status.SENT).count()
        reactions = PendingReaction.objects.count()
        if not (pending or reactions) or time.monotonic() > deadline:
            break
        platform.check()
        time.sleep(0.5)
    sent = Outbox.objects.filter(status=Outbox.Status.SENT).count()
    return f"outbox: {sent} sent, {pending} not yet; reactions still waiting: {reactions}"


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    run = f"bench-load-{os.getpid()}-{secrets.token_hex(3)}"
    with scratch_database(DATABASE), tempfile.TemporaryDirectory(prefix="bench-load-") as work:
        workdir = Path(work)
        seeded = seed_platform(agents=AGENTS)
        release_connections()  # the servers open their own
        ws_port = free_port()
        env = environment(workdir, run=run, ws_port=ws_port)
        platform = Platform(workdir, env, ws_port)
        try:
            platform.start()
            print(
                f"setup: {time.monotonic() - started:.0f} s; gunicorn {webhooks.WORKERS} sync "
                f"workers on {webhooks.PUBLIC_BASE_URL}, uvicorn on ws://127.0.0.1:{ws_port}, "
                f"Celery worker and beat, react; {os.cpu_count()} cores",
                flush=True,
            )
            config = {
                "run": run,
                "platform": {
                    "http": webhooks.PUBLIC_BASE_URL,
                    "ws": f"ws://127.0.0.1:{ws_port}",
                    "public_base_url": webhooks.PUBLIC_BASE_URL,
                    "twilio_token": webhooks.AUTH_TOKEN,
                    "api_key": seeded.api_key,
                    "site_key": seeded.site_key,
                    "site_secret": seeded.site_secret,
                    "origin": ORIGIN,
                    "placement_code": seeded.placement_code,
                    "shop_number": SHOP_NUMBER,
                },
                "agents": seeded.agents,
                "solo_journeys": SOLO_JOURNEYS,
                "stages": STAGES,
                "stage_seconds": STAGE_SECONDS,
            }
            result = swarm(config, workdir)
            platform.check()
            backlog = settle(platform)
        finally:
            platform.stop()
            _forget(env)
        findings = verify(result["ledgers"])
        web_log = platform.tail("web")
        release_connections()

    figures = report.figures(result)
    print(report.table(figures), flush=True)
    best = figures.best
    print(
        f"single path: {figures.solo_rate:.0f} journeys/min, one shopper after another; "
        f"sustained: {f'{best.rate:.0f}/min ({best.name})' if best else 'no stage'}\n"
        f"journal: {findings.shoppers} shoppers, {findings.markers} events checked, "
        f"{findings.lost} problems; journeys failed: {figures.failed}; {backlog}",
        flush=True,
    )
    for problem in findings.problems[:20]:
        print(f"  lost: {problem}", flush=True)
    for error in result["errors"]:
        print(f"  error: {error}", flush=True)
    if (findings.lost or figures.failed) and web_log.strip():
        print(f"gunicorn log (last lines):\n{web_log}", flush=True)
    print(f"total: {time.monotonic() - started:.0f} s", flush=True)
    print("\n".join(report.verdicts(figures, findings.lost)), flush=True)
    return 0


def _forget(env: dict[str, str]) -> None:
    """Drop the run's queue and stream from Redis: they name rows of a dropped database."""
    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        client.delete(env["CELERY_TASK_DEFAULT_QUEUE"], env["THROUGHLINE_REACTIONS_STREAM"])
    except redis.RedisError:
        pass  # a failed tidy-up is no reason to fail a run
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
