from django.core.management.base import BaseCommand, CommandError

from audit.services import NoSigningKey, sign_checkpoint


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit log now (Celery beat does this every few minutes)."

    def handle(self, *args: object, **options: object) -> None:
        try:
            checkpoint = sign_checkpoint()
        except NoSigningKey as exc:
            raise CommandError(str(exc)) from exc
        if checkpoint is None:
            self.stdout.write("nothing new to seal")
        else:
            self.stdout.write(checkpoint.note)
