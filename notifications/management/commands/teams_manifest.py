import json
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications import teams_manifest

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


class Command(BaseCommand):
    help = (
        "Write the Teams app package (manifest.json and its icons, zipped) that a Teams "
        "admin uploads to install the Airlock bot. Needs TEAMS_APP_ID and AIRLOCK_BASE_URL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default="airlock-teams.zip", help="the zip to write")
        parser.add_argument("--app-version", dest="app_version", default="1.0.0")
        parser.add_argument("--developer", default="Airlock", help="the publisher's name")
        parser.add_argument(
            "--print", action="store_true", help="print manifest.json instead of writing a zip"
        )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.TEAMS["APP_ID"]:
            raise CommandError("set TEAMS_APP_ID (the Azure Bot's Microsoft App ID) first")
        version = str(options["app_version"])
        if not SEMVER.match(version):
            raise CommandError("--app-version must be MAJOR.MINOR.PATCH")
        developer = str(options["developer"])
        if options["print"]:
            body = teams_manifest.manifest(version=version, developer=developer)
            self.stdout.write(json.dumps(body, indent=2))
            return
        if not settings.NOTIFY["BASE_URL"].startswith("https://"):
            self.stderr.write(
                "warning: AIRLOCK_BASE_URL is not https; Teams refuses the package's URLs"
            )
        output = Path(str(options["output"]))
        output.write_bytes(teams_manifest.package(version=version, developer=developer))
        self.stdout.write(f"wrote {output}: upload it in Teams (Apps, Manage your apps)")
