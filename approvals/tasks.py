from celery import shared_task

from approvals import services


@shared_task(name="approvals.expire_overdue")
def expire_overdue() -> int:
    return services.expire_overdue()
