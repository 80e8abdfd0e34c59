"""What approvals tells the outside world through the channel layer.

Groups: ``action.<id>`` (long-polls waiting on one request) and
``reviewers.<digest of the group name>`` (the live queue of everyone in that
reviewer group; each consumer re-checks, per person, what they may see). Messages
carry only the request's id, never its content. Sent by the ``live`` dispatch
consumer after the transaction commits; a channel-layer outage never undoes a
decision: the outbox sends again, and long-polls re-read the database on their own.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

ACTION_CREATED = "action.created"
ACTION_UPDATED = "action.updated"


def action_group(action_id: UUID | str) -> str:
    return f"action.{action_id}"


def reviewer_group(name: str) -> str:
    # Channel group names allow only [A-Za-z0-9._-]; group names may hold more.
    return "reviewers." + hashlib.sha256(name.encode()).hexdigest()[:32]


def publish(
    action_id: UUID | str, reviewer_groups: Iterable[str], event_type: str = ACTION_UPDATED
) -> None:
    """Tell a request's long-polls, and the live queues of its reviewer groups, that it
    changed. Called by the dispatch consumer after commit; raises when the channel
    layer cannot take a message, so the outbox tries again."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": event_type, "id": str(action_id)}
    groups = [reviewer_group(name) for name in reviewer_groups]
    if event_type != ACTION_CREATED:  # nobody can be waiting on a request not yet filed
        groups.append(action_group(action_id))
    failed: list[str] = []
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception as exc:
            logger.warning("could not publish %s to %s: %s", event_type, group, exc)
            failed.append(group)
    if failed:
        raise ConnectionError(f"the channel layer refused {len(failed)} of {len(groups)} sends")
