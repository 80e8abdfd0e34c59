"""What approvals tells the outside world through the channel layer.

Groups: ``action.<id>`` (long-polls waiting on one request) and
``reviewers.<digest of the group name>`` (the live queue of everyone in that
reviewer group; each consumer re-checks, per person, what they may see). Messages
carry only the request's id, never its content. Sent by the ``live`` dispatch
consumer after the transaction commits; a channel-layer outage never undoes a
decision: the outbox sends again, and long-polls re-read the database on their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
from collections.abc import Coroutine, Iterable
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

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
    if isinstance(layer, InMemoryChannelLayer):
        # Its queues belong to the event loop of whoever reads them (one process).
        results = [_send_in_callers_loop(layer, group, message) for group in groups]
    else:
        results = _sender.run(_send_all(layer, groups, message), timeout=SEND_TIMEOUT_SECONDS)
    failed = [group for group, error in zip(groups, results, strict=True) if error is not None]
    for group, error in zip(groups, results, strict=True):
        if error is not None:
            logger.warning("could not publish %s to %s: %s", event_type, group, error)
    if failed:
        raise ConnectionError(f"the channel layer refused {len(failed)} of {len(groups)} sends")


SEND_TIMEOUT_SECONDS = 5.0


def _send_in_callers_loop(layer: Any, group: str, message: dict[str, str]) -> Exception | None:
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception as exc:
        return exc
    return None


async def _send_all(layer: Any, groups: list[str], message: dict[str, str]) -> list[Any]:
    results = await asyncio.gather(
        *(layer.group_send(group, message) for group in groups), return_exceptions=True
    )
    return [result if isinstance(result, BaseException) else None for result in results]


class _LayerLoop:
    """One event loop per process, on a thread of its own, for channel-layer sends
    from sync code. ``async_to_sync`` from a WSGI thread made a new event loop, and
    with it a new Redis connection, for every send: 5.8 ms a publish, most of what a
    request that becomes pending cost after its commit. Here the loop, and
    channels-redis' connections (kept per loop), live as long as the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            # A forked child (a Celery worker) has the attribute but not the thread.
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="airlock-channel-layer", daemon=True
                )
                thread.start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, list[Any]], *, timeout: float) -> list[Any]:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._running_loop())
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise ConnectionError(f"the channel layer did not answer in {timeout:g} s") from None


_sender = _LayerLoop()
