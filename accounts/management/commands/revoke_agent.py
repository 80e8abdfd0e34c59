from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import revoke_agent
from airlock.errors import DomainError


class Command(BaseCommand):
    help = "Revoke an agent: its token stops working at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args: object, **options: object) -> None:
        try:
            revoke_agent(name=str(options["name"]))
        except DomainError as exc:
            raise CommandError(exc.message) from exc
