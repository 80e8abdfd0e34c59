"""Build an evidence package without the web server: prints the zip's SHA-256."""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidence import builder
from evidence.services import file_digest


class Command(BaseCommand):
    help = "Build a SOC 2 evidence package for a period (dates inclusive, UTC)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--framework", default="soc2", choices=["soc2"])
        parser.add_argument("--from", dest="period_from", required=True, type=date.fromisoformat)
        parser.add_argument("--to", dest="period_to", required=True, type=date.fromisoformat)
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument(
            "--sample", type=int, default=None, help="requests to sample with inclusion proofs"
        )
        parser.add_argument("--seed", default=None, help="the sample's seed (recorded)")
        parser.add_argument(
            "--timings",
            action="store_true",
            help="print each phase's wall and CPU seconds to stderr",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["period_to"] < options["period_from"]:
            raise CommandError("--to is before --from")
        sample = options["sample"]
        if sample is None:
            sample = int(str(settings.EVIDENCE["DEFAULT_SAMPLE"]))
        timings: dict[str, tuple[float, float]] = {}
        try:
            builder.build(
                out_path=options["out"],
                period_from=options["period_from"],
                period_to=options["period_to"],
                sample_size=sample,
                seed=options["seed"] or secrets.token_hex(8),
                generated_by="operator:manage.py evidence_report",
                report_id="cli-" + secrets.token_hex(4),
                timings=timings,
            )
        except builder.BuildError as exc:
            raise CommandError(str(exc)) from exc
        if options["timings"]:
            for phase, (wall, cpu) in timings.items():
                self.stderr.write(f"{phase} {wall:.2f} {cpu:.2f}")
        digest, _ = file_digest(options["out"])
        self.stdout.write(digest)
