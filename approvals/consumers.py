"""The reviewer console's live queue: ``/ws/queue``.

A signed-in person (session, behind ``AllowedHostsOriginValidator``) joins the
channel groups of their reviewer groups. For every event the consumer re-checks,
for this person, that the request is theirs to review, and sends
``{"type": "action.created" | "action.updated", "action": <representation>}``.
Anonymous sockets are closed with code 4401.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from approvals import events, selectors

UNAUTHENTICATED = 4401


class QueueConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or getattr(user, "is_agent", False):
            await self.close(code=UNAUTHENTICATED)
            return
        self.user_id = user.pk
        names = await database_sync_to_async(user.group_names)()
        self.joined = [events.reviewer_group(name) for name in sorted(names)]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def action_created(self, message: dict[str, Any]) -> None:
        await self._relay(events.ACTION_CREATED, message["id"])

    async def action_updated(self, message: dict[str, Any]) -> None:
        await self._relay(events.ACTION_UPDATED, message["id"])

    async def _relay(self, event_type: str, action_id: str) -> None:
        item = await database_sync_to_async(selectors.queue_item_for)(self.user_id, action_id)
        if item is not None:
            await self.send_json({"type": event_type, "action": item})
