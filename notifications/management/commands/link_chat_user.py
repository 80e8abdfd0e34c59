from django.core.management.base import BaseCommand, CommandError, CommandParser

from airlock.errors import DomainError
from notifications.services import link_chat_user


class Command(BaseCommand):
    help = "Bind a Slack or Teams identity to a person (as the console's linking flow does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--slack", metavar="TEAM_ID:USER_ID")
        which.add_argument("--teams", metavar="TENANT_ID:AAD_OBJECT_ID")

    def handle(self, *args: object, **options: object) -> None:
        provider = "slack" if options["slack"] else "teams"
        ids = str(options["slack"] or options["teams"])
        team_id, _, chat_user_id = ids.partition(":")
        try:
            link_chat_user(
                email=str(options["email"]),
                provider=provider,
                team_id=team_id,
                chat_user_id=chat_user_id,
                actor="system:link_chat_user",
            )
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details or ''}".strip()) from exc
