"""Run every benchmark script of this package, one process each: `python -m bench`.

Each script sets up Django on its own scratch database, so they run one after another in
fresh interpreters. The exit status is 1 when a script failed to run (a `short` verdict
is a result, not a failure).
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import time
from pathlib import Path


def scripts() -> list[str]:
    package = Path(__file__).resolve().parent
    return sorted(
        module.name
        for module in pkgutil.iter_modules([str(package)])
        if not module.name.startswith("_")
    )


def main() -> int:
    failed, verdicts = [], []
    for name in scripts():
        print(f"== bench.{name}", flush=True)
        started = time.monotonic()
        # Our own interpreter running a module of this package: no outside input.
        with subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", f"bench.{name}"], stdout=subprocess.PIPE, text=True, bufsize=1
        ) as process:
            for line in process.stdout:
                print(line, end="", flush=True)
                if line.startswith("bench "):
                    verdicts.append(line.rstrip())
        if process.returncode != 0:
            failed.append(name)
        print(f"== bench.{name}: exit {process.returncode} in {time.monotonic() - started:.0f} s")
    short = [line for line in verdicts if line.endswith(" short")]
    print(
        f"== {len(verdicts)} figures, {len(short)} short; "
        f"failed scripts: {', '.join(failed) or 'none'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
