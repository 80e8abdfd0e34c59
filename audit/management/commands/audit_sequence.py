import json
import logging
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

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
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info("audit sequencer following (AUDIT_SEQUENCER=%s)", sequencer.mode())
        sequencer.follow(pause=options["poll_ms"] / 1000, should_stop=lambda: stopping)
