import json
import os

from django.core.management.base import BaseCommand, CommandParser

from audit.verification import verify_database


class Command(BaseCommand):
    help = (
        "Re-check the whole audit log: every leaf, chain link, Merkle root and checkpoint "
        "signature. Prints a summary; exits 1 when the log does not verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="processes checking ranges of the log at once (PostgreSQL; default: cores)",
        )

    def handle(self, *args: object, **options: object) -> None:
        workers = options["workers"]
        result = verify_database(workers=max(workers if isinstance(workers, int) else 1, 1))
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        elif result.ok:
            self.stdout.write(
                f"ok: {result.events} events, {result.checkpoints} checkpoints, head {result.head}"
            )
        else:
            self.stdout.write(f"FAILED: first bad sequence {result.first_bad_seq}")
            for problem in result.problems:
                self.stdout.write(f"  {problem}")
        if not result.ok:
            raise SystemExit(1)
