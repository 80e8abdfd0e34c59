"""The reviewer console's live queue: ``/ws/queue``.

A signed-in person (session, behind ``AllowedHostsOriginValidator``) joins the
channel groups of their reviewer groups. For every event the consumer re-checks,
for this person, that the request is theirs to review, and sends
``{"type": "action.created" | "action.updated", "action": <representation>}``.
Anonymous sockets are accepted and then closed with code 4401: closed before the
handshake, a server can only answer HTTP 403, and the page could not tell "sign in
again" from any other refusal. While the channel layer (Redis) is away a socket is
closed with 1013 (try again later); the page then works with a reload.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from approvals import events, selectors

logger = logging.getLogger(__name__)

UNAUTHENTICATED = 4401
TRY_AGAIN_LATER = 1013


def _layer_errors() -> tuple[type[BaseException], ...]:
    try:
        import redis
    except ImportError:  # pragma: no cover - redis comes with channels-redis
        return (OSError,)
    return (redis.RedisError, OSError)


class QueueConsumer(AsyncJsonWebsocketConsumer):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # The layer's blocking read is cancelled when the socket closes; redis-py can
        # report that cancellation, or Redis going away meanwhile, as an error. The
        # socket is gone either way: a warning, not an ERROR with a traceback.
        try:
            await super().__call__(scope, receive, send)
        except _layer_errors() as exc:
            logger.warning("live queue: channel layer failed (%s)", type(exc).__name__)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or getattr(user, "is_agent", False):
            await self.accept()
            await self.close(code=UNAUTHENTICATED)
            return
        self.user_id = user.pk
        names = await database_sync_to_async(user.group_names)()
        self.joined: list[str] = []
        try:
            for group in [events.reviewer_group(name) for name in sorted(names)]:
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)
        except _layer_errors() as exc:
            logger.warning("live queue unavailable (%s)", type(exc).__name__)
            await self.accept()
            await self.close(code=TRY_AGAIN_LATER)
            return
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except _layer_errors() as exc:  # the group's membership expires by itself
                logger.warning("live queue: could not leave a group (%s)", type(exc).__name__)
                return

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
