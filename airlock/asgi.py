"""ASGI entry point: one server for everything, each request on the path that suits it.

- websockets: Channels (the live console);
- HTTP that waits (``?wait=N`` long-polls): Django's ASGI handler, where the wait is
  a coroutine on the event loop, not a thread and a database connection held for
  up to 30 seconds (``approvals.longpoll``);
- every other HTTP request: Django's WSGI handler, in a pool of threads
  (``airlock.wsgi_bridge``: one hand-over to the loop per answer). Django under
  ASGI runs all sync code of a process in one thread and hops between the event
  loop and that thread around every sync middleware and view; a sync request on
  a thread of its own does neither, so the API's ordinary calls run at WSGI speed
  while they are still served by the same uvicorn. An agent's call (a bearer
  token, no cookie) skips the middleware that only a browser's request needs
  (``airlock.handlers``).

``uvicorn airlock.asgi:application`` (what ``make run`` and docker-compose start)
serves all three. ``airlock.wsgi`` serves the same app to a WSGI server, where a
long-poll then holds its thread while it waits.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import ResolverMatch  # noqa: E402

from airlock.handlers import AgentHandler, SplitWSGI  # noqa: E402
from airlock.routing import websocket_urlpatterns  # noqa: E402
from airlock.wsgi_bridge import BufferedWSGI  # noqa: E402


class WaitingHandler(ASGIHandler):
    """Django's ASGI handler, serving a view's async twin where it has one
    (``approvals.longpoll.waitable``): the twin waits without a thread."""

    def resolve_request(self, request: Any) -> ResolverMatch:
        match = super().resolve_request(request)
        twin = getattr(match.func, "async_twin", None)
        if twin is not None:
            match.func = twin
        return match


def waits(scope: dict[str, Any]) -> bool:
    """Whether an HTTP request asks to be held (``?wait=`` other than empty or 0).
    What the view would refuse (``wait=abc``) goes the waiting way too: the view
    answers it the same on both."""
    query = scope.get("query_string", b"").decode("latin-1")
    if "wait" not in query:
        return False
    values = [value for key, value in parse_qsl(query, keep_blank_values=True) if key == "wait"]
    return bool(values) and values[-1] not in ("", "0")


class HttpRouter:
    def __init__(self, threads: int) -> None:
        self.waiting = WaitingHandler()
        self.threaded = BufferedWSGI(
            SplitWSGI(get_wsgi_application(), AgentHandler()),
            threads=threads,
            # What Django reads into memory anyway; a larger body streams (a2wsgi),
            # so that Django can refuse it having read only what it needs.
            max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0,
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if waits(scope):
            await self.waiting(scope, receive, send)
        else:
            await self.threaded(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": HttpRouter(threads=settings.AIRLOCK["HTTP_THREADS"]),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

__all__ = ["application", "django_asgi_app", "waits"]
