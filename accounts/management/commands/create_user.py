import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import upsert_user
from airlock.errors import DomainError


class Command(BaseCommand):
    help = "Create or update a person and set their groups. Prints nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--groups", help="comma-separated group names; becomes the person's exact set"
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read a password for local login from standard input",
        )

    def handle(self, *args: object, **options: object) -> None:
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("no password on standard input")
        groups = None
        if options["groups"] is not None:
            groups = str(options["groups"]).split(",")
        try:
            upsert_user(email=str(options["email"]), groups=groups, password=password)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
