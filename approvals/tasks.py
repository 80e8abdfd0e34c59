from uuid import UUID

from celery import shared_task
from celery.signals import worker_process_init
from django.db import InterfaceError, OperationalError

from approvals import screening, services


@shared_task(name="approvals.expire_overdue")
def expire_overdue() -> int:
    return services.expire_overdue()


@shared_task(
    name="approvals.screen_action",
    acks_late=True,
    reject_on_worker_lost=True,
    # Only what a retry can cure: the database going away for a moment.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def screen_action(action_id: str) -> None:
    screening.complete_screening(action_id=UUID(action_id))


@shared_task(name="approvals.resume_screening")
def resume_screening() -> int:
    return screening.resume_stuck_screening()


@worker_process_init.connect
def _load_screening_engine(**kwargs: object) -> None:
    """Load the analyzer before the first task, once per worker process."""
    from sanitization.engine import get_engine

    get_engine()
