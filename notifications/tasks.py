"""Celery tasks of notifications: explicit names, ids only, each calls one service."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from notifications import reminders, services
from notifications.models import SeenSignature


@shared_task(name="notifications.send", acks_late=True, reject_on_worker_lost=True)
def send_delivery(delivery_id: int) -> str | None:
    # Errors are the delivery's own state (attempts, backoff, failed): never a Celery retry.
    return services.attempt(delivery_id)


def enqueue(delivery_ids: Iterable[int]) -> None:
    """Hand deliveries to workers. Raises when the broker is down: the caller (the
    dispatch consumer) is then retried, and the sweep sends what is due anyway."""
    for delivery_id in delivery_ids:
        send_delivery.delay(delivery_id)


@shared_task(name="notifications.sweep")
def sweep() -> int:
    delivered = services.sweep()
    SeenSignature.objects.filter(seen_at__lt=timezone.now() - timedelta(minutes=10)).delete()
    return delivered


@shared_task(name="notifications.remind")
def remind() -> int:
    ids = reminders.remind_due()
    enqueue(ids)
    return len(ids)
