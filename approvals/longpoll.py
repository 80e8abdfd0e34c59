"""``?wait=N``: hold an HTTP response until a request is decided or N seconds pass.

The wait is async, so a waiting client costs a coroutine, not a thread and a
database connection held for up to 30 seconds.
It listens on the channel layer for the request's group and also re-reads the
database every ``WAIT_RECHECK_SECONDS``, so a lost notification costs latency,
never a wrong answer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from approvals import events, selectors

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaitSpec:
    """Attached to a response by a view that wants the wrapper to wait.

    ``refresh`` re-reads the request and returns the new response body.
    """

    action_id: UUID
    timeout: float
    refresh: Callable[[], Any]


def _decided(action_id: UUID) -> bool:
    return selectors.is_decided(action_id)


async def wait_until_decided(action_id: UUID, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    recheck = float(settings.AIRLOCK["WAIT_RECHECK_SECONDS"])
    layer = get_channel_layer()
    channel = None
    group = events.action_group(action_id)
    try:
        if layer is not None:
            try:
                channel = await layer.new_channel()
                await layer.group_add(group, channel)
            except Exception:
                logger.warning("channel layer unavailable; long-poll falls back to polling")
                channel = None
        while True:
            # Subscribed before this read, so a decision between the two is not missed.
            if await sync_to_async(_decided)(action_id):
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            step = min(remaining, recheck if channel else min(recheck, 0.1))
            if channel is None:
                await asyncio.sleep(step)
                continue
            try:
                await asyncio.wait_for(layer.receive(channel), step)
            except TimeoutError:
                pass
            except Exception:
                logger.warning("channel layer failed during a long-poll; polling instead")
                channel = None
    finally:
        if channel is not None and layer is not None:
            try:
                await layer.group_discard(group, channel)
            except Exception:
                logger.warning("could not leave %s", group)


def waitable(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a DRF view so that a response carrying ``airlock_wait`` waits.

    The wrapper is a sync view with an async twin (``async_twin``). ``airlock.asgi``
    sends requests that wait to Django's ASGI handler, which serves the twin: the
    wait is a coroutine. Every other request runs the sync view on a thread, with no
    event-loop hops. Under a plain WSGI server the sync view waits too, holding its
    thread.
    """

    def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        spec: WaitSpec | None = getattr(response, "airlock_wait", None)
        if spec is None:
            return response
        async_to_sync(wait_until_decided)(spec.action_id, spec.timeout)
        response.data = spec.refresh()  # type: ignore[attr-defined]
        return response

    async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = await sync_to_async(view)(request, *args, **kwargs)
        spec: WaitSpec | None = getattr(response, "airlock_wait", None)
        if spec is None:
            return response
        await wait_until_decided(spec.action_id, spec.timeout)
        # Not rendered yet: Django renders it after this view returns.
        response.data = await sync_to_async(spec.refresh)()  # type: ignore[attr-defined]
        return response

    functools.update_wrapper(sync_view, view)
    functools.update_wrapper(async_view, view)
    sync_view.async_twin = async_view  # type: ignore[attr-defined]
    return sync_view
