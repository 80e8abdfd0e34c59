"""What approvals tells the outside world through the channel layer.

Groups: ``action.<id>`` (long-polls waiting on one request). Sent only after the
transaction commits; a channel-layer outage is logged and never undoes a decision
(long-polls re-read the database on their own).
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

ACTION_UPDATED = "action.updated"


def action_group(action_id: UUID | str) -> str:
    return f"action.{action_id}"


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # the decision is committed; a lost notice only delays a waiter
        logger.exception("could not publish %s to %s", message.get("type"), group)


def action_changed(action_id: UUID, event_type: str = ACTION_UPDATED) -> None:
    """Publish, once the current transaction commits, that a request changed."""
    message = {"type": event_type, "id": str(action_id)}
    transaction.on_commit(lambda: _send(action_group(action_id), message), robust=True)
