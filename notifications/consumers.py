"""The dispatch consumer of notifications (registered in ``AppConfig.ready``).

A request that becomes pending gets a delivery per channel of its reviewer groups;
a review or a decision gets an update of every Slack message and Teams card about
it; an agent's ``callback_url`` gets every status. The handler only writes rows
(idempotent: keyed by the domain event's id) and hands them to workers; raising
leaves the event to the dispatch sweep."""

from __future__ import annotations

from approvals import dispatch
from approvals.dispatch import DomainEvent
from approvals.models import ActionStatus
from notifications import services, tasks


def wanted(event: DomainEvent) -> bool:
    # A filing decided at once (the fast path) concerns nobody here: the agent has its
    # answer in the response.
    if event.kind == dispatch.FILED:
        return event.status == ActionStatus.PENDING
    return event.kind in (dispatch.STATUS, dispatch.REVIEWED)


@dispatch.consumer("notifications", wants=wanted)
def notify(event: DomainEvent) -> None:
    tasks.enqueue(services.plan(event))
