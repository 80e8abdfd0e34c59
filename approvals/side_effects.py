"""The side effects of a request's changes, each a consumer of ``approvals.dispatch``.
Registered when the app is ready. Each must be idempotent: the outbox delivers at
least once.
"""

from __future__ import annotations

from approvals import dispatch, events
from approvals.dispatch import DomainEvent
from approvals.models import ActionStatus
from approvals.tasks import screen_action


def _broadcast_wanted(event: DomainEvent) -> bool:
    # A new request concerns reviewers only once it waits for them; a request decided
    # at filing has nobody waiting on it yet.
    return event.kind != dispatch.FILED or event.status == ActionStatus.PENDING


@dispatch.consumer("live", wants=_broadcast_wanted)
def broadcast(event: DomainEvent) -> None:
    """Tell long-polls and the live queues of the request's reviewer groups. Messages
    carry the id only; every receiver re-reads what it may see."""
    kind = events.ACTION_CREATED if event.kind == dispatch.FILED else events.ACTION_UPDATED
    events.publish(event.action_id, event.reviewer_groups, kind)


def _screening_wanted(event: DomainEvent) -> bool:
    return event.kind == dispatch.FILED and not event.screened


@dispatch.consumer("screening", wants=_screening_wanted)
def enqueue_screening(event: DomainEvent) -> None:
    """Hand the payload to a worker. The task does nothing for a request already
    screened, so a second message is harmless."""
    screen_action.delay(str(event.action_id))
