from django.core.management.base import BaseCommand

from approvals.services import expire_overdue


class Command(BaseCommand):
    help = (
        "Expire pending requests past their deadline. Celery beat runs this every "
        "AIRLOCK_EXPIRY_SWEEP_SECONDS; without a beat (the embedded default) run it from cron."
    )

    def handle(self, *args: object, **options: object) -> None:
        total = 0
        while expired := expire_overdue():
            total += expired
        self.stdout.write(f"{total} expired")
