from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from airlock.errors import DomainError
from policies import selectors, services
from policies.document import PolicyDocumentError, parse_document


class Command(BaseCommand):
    help = (
        "Store FILE as a new policy version and print its number. It becomes active at "
        "once when no policy exists yet or AIRLOCK_POLICY_SINGLE_ADMIN is on; otherwise "
        "it is a proposal that another member of airlock-admins must approve."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--author", help="e-mail of the admin proposing it (default: system)")

    def handle(self, *args: object, **options: object) -> None:
        path = Path(str(options["file"]))
        try:
            document = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        try:
            parse_document(document)
        except PolicyDocumentError as exc:
            raise CommandError("\n".join(f"{path}: {problem}" for problem in exc.problems)) from exc
        actor: User | str = "system"
        if options["author"]:
            user = User.objects.filter(email=str(options["author"]).lower()).first()
            if user is None:
                raise CommandError(f"no person {options['author']!r}")
            actor = user
        single_admin = (
            bool(settings.AIRLOCK["POLICY_SINGLE_ADMIN"]) or not selectors.any_policy_stored()
        )
        try:
            policy = services.propose(document=document, actor=actor, single_admin=single_admin)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(str(policy.version))
        if policy.status != "active":
            self.stderr.write(
                f"version {policy.version} is proposed; it becomes active when another member "
                "of airlock-admins approves it (POST /api/v1/policies/{version}/approve)"
            )
