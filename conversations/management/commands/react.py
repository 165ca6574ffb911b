"""`python manage.py react`: run the events' reactions (conversations/reactions.py).

A long-running consumer of the reactions stream, as many as the load needs (each is one
consumer of the group). SIGTERM or Ctrl-C stops it after the batch in hand.

It never exits on an event's error: a reaction that fails is retried, then parked
(`ParkedReaction`), and the loop goes on. Redis or PostgreSQL being unreachable is waited
out. With Redis down it still works through the hand-overs in the database (rows older
than REACTIONS_CATCH_UP_SECONDS), once a second; what it had claimed when it died goes
to another process after REACTIONS_CLAIM_IDLE_SECONDS.
"""

from __future__ import annotations

import logging
import signal
import time

import redis
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from conversations import reactions

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the reactions (routing, nudge attribution…) of recorded events."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Drain what waits, then exit.")

    def handle(self, *args, once: bool = False, **options):
        stopping = []
        if not once:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stopping.append(True))
        consumer = reactions.consumer_name()
        self.stdout.write(f"reactions: consuming as {consumer}")
        while not stopping:
            try:
                done = reactions.drain(
                    consumer=consumer, block_ms=None if once else reactions.BLOCK_MS
                )
            except redis.RedisError:
                if once:
                    raise
                # Redis restarting or unreachable: the database's hand-overs were worked
                # through before this (drain), and wake-ups are only a matter of speed.
                logger.warning("reactions: Redis unavailable, retrying in a second")
                time.sleep(1)
                continue
            except DatabaseError:
                if once:
                    raise
                # PostgreSQL restarting or unreachable: the hand-over rows stay, and are
                # caught up once it answers.
                logger.exception("reactions: database unavailable, retrying in a second")
                close_old_connections()
                time.sleep(1)
                continue
            if once and not done:
                break
