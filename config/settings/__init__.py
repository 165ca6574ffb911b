"""Throughline settings, read from the environment (config/env.py: strict booleans, and
NAME_FILE for every NAME). README.md, "Settings", lists every variable. Two modes:

- development and tests (`DEBUG=true`, or running under pytest): safe defaults for
  everything, and with no `DATABASE_URL` / `REDIS_URL` an embedded PostgreSQL and Redis
  are started under `STATE_DIR` (see quickstart/embedded.py);
- production (`DEBUG` off, the default): the required variables must be set, and a missing
  one stops the process at start with a message naming it.

Two parts: runtime.py (Django, the database, Redis, Celery, security, logs, metrics) and
throughline.py (the product's own: plugs, the journal's reactions, each channel and app).
What apps plug into each other is not here: each app declares it on its AppConfig, and
the plug settings only switch (base/plugins.py).
"""

from config.settings.runtime import *  # noqa: F403
from config.settings.throughline import *  # noqa: F403
