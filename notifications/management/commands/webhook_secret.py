from django.core.management.base import BaseCommand, CommandError, CommandParser

from airlock.errors import DomainError
from notifications.services import rotate_webhook_secret


class Command(BaseCommand):
    help = "Make or rotate an agent's webhook signing secret and print it, once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("agent")

    def handle(self, *args: object, **options: object) -> None:
        try:
            secret = rotate_webhook_secret(
                agent_name=str(options["agent"]), actor="system:webhook_secret"
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(secret)
