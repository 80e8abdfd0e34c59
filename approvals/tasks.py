"""Celery tasks of approvals: explicit names, ids only, each calls one service."""

import logging
from datetime import timedelta
from uuid import UUID

from celery import shared_task
from celery.signals import worker_process_init
from django.db import InterfaceError, OperationalError

from approvals import dispatch
from approvals.services import expire_overdue as expire_overdue_service
from approvals.services import screening

logger = logging.getLogger(__name__)


@shared_task(name="approvals.expire_overdue")
def expire_overdue() -> int:
    return expire_overdue_service()


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


def resume_stuck_screening(*, older_than: timedelta | None = None, batch: int = 200) -> int:
    """Enqueue again every request still unscreened after ``older_than``: its worker
    died after taking the message (the outbox covers a message never sent). Returns
    how many were enqueued."""
    stuck = screening.stuck_screening(older_than=older_than, batch=batch)
    for action_id in stuck:
        screen_action.delay(str(action_id))
    if stuck:
        logger.warning("re-enqueued %d requests stuck in screening", len(stuck))
    return len(stuck)


@shared_task(name="approvals.resume_screening")
def resume_screening() -> int:
    return resume_stuck_screening()


@shared_task(name="approvals.dispatch_sweep")
def dispatch_sweep() -> int:
    delivered = dispatch.sweep()
    dispatch.purge_delivered()
    return delivered


@worker_process_init.connect
def _load_screening_engine(**kwargs: object) -> None:
    """Load the analyzer before the first task, once per worker process."""
    from sanitization.engine import get_engine

    get_engine()


@shared_task(name="approvals.sweep_credentials")
def sweep_credentials(action_id: str | None = None) -> int:
    from approvals.services import grants

    return grants.sweep_credentials(action_id=UUID(action_id) if action_id else None)
