from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import create_personal_token
from airlock.errors import DomainError


class Command(BaseCommand):
    help = "Create a personal API token for a person and print it, once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="", help="a label to recognise the token by")

    def handle(self, *args: object, **options: object) -> None:
        try:
            _, token = create_personal_token(email=str(options["email"]), name=str(options["name"]))
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(token)
