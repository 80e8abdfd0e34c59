import json
import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from audit import sequencer
from audit.tasks import check_sequencer

logger = logging.getLogger("audit.sequencer")


class Command(BaseCommand):
    help = (
        "Sequence committed audit events into the hash chain. Without options: until none "
        "is left. --follow: keep doing it (the production sequencer process). --check: print "
        "the sequencer's state, raise the stall alarm if it applies, exit 1 when stalled."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--follow", action="store_true", help="run until stopped")
        parser.add_argument(
            "--poll-ms",
            type=int,
            default=10,
            help="--follow: how long to sleep when nothing waits (default 10 ms)",
        )
        parser.add_argument("--check", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            state = check_sequencer()
            self.stdout.write(json.dumps(state))
            if state["stalled"]:
                raise SystemExit(1)
            return
        if not options["follow"]:
            count = sequencer.sequence_all(wait=True)
            self.stdout.write(f"sequenced {count} events; through {sequencer.sequenced_through()}")
            return
        self._follow(options["poll_ms"] / 1000)

    def _follow(self, pause: float) -> None:
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info("audit sequencer following (mode %s)", sequencer.mode())
        while not stopping:
            try:
                # Waits for the head if another sequencer holds it: a second follower is
                # a standby, not a competitor.
                done = sequencer.sequence_pending(wait=True)
            except sequencer.SequencingError as exc:
                logger.error("AUDIT SEQUENCER CANNOT PROCEED: %s", exc)
                done = 0
                time.sleep(1)
            except Exception:
                logger.exception("audit sequencer pass failed; retrying")
                connection.close()
                done = 0
                time.sleep(1)
            if not done:
                time.sleep(pause)
