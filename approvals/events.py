"""What approvals tells the outside world through the channel layer.

Groups: ``action.<id>`` (long-polls waiting on one request) and
``reviewers.<digest of the group name>`` (the live queue of everyone in that
reviewer group; each consumer re-checks, per person, what they may see). Messages
carry only the request's id, never its content. Sent only after the transaction
commits; a channel-layer outage is logged and never undoes a decision
(long-polls re-read the database on their own).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

ACTION_CREATED = "action.created"
ACTION_UPDATED = "action.updated"


def action_group(action_id: UUID | str) -> str:
    return f"action.{action_id}"


def reviewer_group(name: str) -> str:
    # Channel group names allow only [A-Za-z0-9._-]; group names may hold more.
    return "reviewers." + hashlib.sha256(name.encode()).hexdigest()[:32]


def _send(groups: Iterable[str], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:  # the decision is committed; a lost notice only delays a waiter
            logger.exception("could not publish %s to %s", message.get("type"), group)


def action_changed(
    action_id: UUID, reviewer_groups: Iterable[str] = (), event_type: str = ACTION_UPDATED
) -> None:
    """Publish, once the current transaction commits, that a request changed: to its
    long-polls, and to the live queues of its reviewer groups."""
    message = {"type": event_type, "id": str(action_id)}
    groups = [reviewer_group(name) for name in reviewer_groups]
    if event_type != ACTION_CREATED:  # nobody can be waiting on a request not yet filed
        groups.append(action_group(action_id))
    transaction.on_commit(lambda: _send(groups, message), robust=True)
