from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from accounts.models import Agent, User


class Command(BaseCommand):
    help = "Print how to sign in and how to create an agent (used by `make run`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args: object, **options: object) -> None:
        url = options["url"]
        # The embedded default runs with DEBUG on; commands run beside it need it too.
        manage = ("DEBUG=1 " if settings.DEBUG else "") + ".venv/bin/python manage.py"
        database = settings.DATABASES["default"]
        is_sqlite = "sqlite" in database["ENGINE"]
        backend = f"SQLite {database['NAME']}" if is_sqlite else "PostgreSQL"
        lines = [
            "",
            f"Airlock is starting on {url}  (database: {backend}; "
            f"broker: {'Redis' if settings.REDIS_URL else 'eager, in-process'})",
            f"  API documentation: {url}/api/docs/",
            "",
        ]
        if not User.objects.exists():
            lines += [
                "No one can sign in yet. In another terminal, create a reviewer and an owner:",
                f"  echo 'choose-a-passphrase' | {manage} create_user you@example.com "
                "--groups reviewers --password-stdin",
                f"  {manage} create_user owner@example.com",
            ]
        else:
            lines.append(f"{User.objects.count()} people and {Agent.objects.count()} agents exist.")
        lines += [
            f"Sign in at {url}/accounts/login/ with an e-mail and the passphrase you set.",
            "Create an agent (prints its token once) and a personal API token:",
            f"  {manage} create_agent etl-bot --owner owner@example.com",
            f"  {manage} create_token you@example.com",
            "",
        ]
        self.stdout.write("\n".join(lines))
