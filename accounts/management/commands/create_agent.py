from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import create_agent, rotate_agent_token
from airlock.errors import DomainError


class Command(BaseCommand):
    help = "Create an agent identity owned by a person and print its token, once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner", required=True, help="the e-mail of the owning person")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="the agent exists: issue a new token and invalidate the old one",
        )

    def handle(self, *args: object, **options: object) -> None:
        name = str(options["name"])
        try:
            if options["rotate"]:
                agent, token = rotate_agent_token(name=name)
                if agent.owner.email != str(options["owner"]).strip().lower():
                    self.stderr.write(f"note: {name} is owned by {agent.owner.email}")
            else:
                _, token = create_agent(name=name, owner_email=str(options["owner"]))
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(token)
