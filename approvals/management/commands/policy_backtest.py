import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from airlock.errors import DomainError
from approvals.backtest import backtest
from policies import services


class Command(BaseCommand):
    help = "Replay FILE against the requests of the last N days and report what would change."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: object, **options: object) -> None:
        try:
            parsed = services.parse(Path(str(options["file"])).read_text(encoding="utf-8"))
            report = backtest(parsed, days=int(options["days"]))  # type: ignore[call-overload]
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except DomainError as exc:
            details = exc.details.get("document") or exc.details
            raise CommandError(f"{exc.message}: {json.dumps(details)}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        self.stdout.write(
            f"{report.requests} requests of the last {report.days} days replayed: "
            f"{report.changed} would be decided differently "
            f"({report.stricter} stricter, {report.looser} looser); "
            f"{report.requirements_changed} would need different approvals"
            + (" (truncated)" if report.truncated else "")
        )
        for direction, count in sorted(report.directions.items()):
            self.stdout.write(f"  {direction}: {count}")
            for example in report.examples.get(direction, []):
                self.stdout.write(
                    f"    {example['id']} {example['action']} {example['resource']} "
                    f"(was {example['was']['rules'] or ['default']}, "
                    f"would be {example['would_be']['rules'] or ['default']})"
                )
