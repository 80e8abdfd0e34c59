"""Two WSGI handlers: the browser's middleware for a browser, less for an agent.

An agent's API call carries ``Authorization: Bearer`` and no cookie. Five of the
middleware in ``settings.MIDDLEWARE`` exist for requests that carry one: the
session, CSRF (whose protection is against a cookie the browser sends on its own),
the session's user, allauth's sign-in flows and flash messages. On a call without a
cookie they find nothing and add nothing to the answer, but each still builds its
objects and wraps the call; on the allowed fast path that was about 5% of a
request's CPU, on ``/healthz`` 11% (docs/performance.md).

So such a request is served by a second handler whose chain is ``MIDDLEWARE``
without those five (and without the static-file server: neither path is under
``STATIC_URL``). Everything else (the API's error shape, the security headers, the
content security policy, ``CommonMiddleware``, ``X-Frame-Options``) is the same
middleware in the same order, so the answer is the same; ``tests/test_handlers.py``
compares the two handlers' answers header by header.

Which requests: no ``Cookie`` header, and either ``GET /healthz`` or a path under
``/api/v1/`` whose ``Authorization`` scheme is ``Bearer``. With a bearer scheme the
token authenticator answers or refuses, so DRF never asks the session
authenticator (the one API code that would read the session's user); every view
under ``/api/`` is a DRF view and so exempt from CSRF, which the same test checks
over the URL patterns, and the JSON API renders no template (so nothing asks for a
CSRF token to set as a cookie; the Swagger page under ``/api/docs/`` does, and is
left to the full chain). A request with any cookie, or without a bearer token, is
served exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

__all__ = ["FOR_BROWSERS", "AgentHandler", "SplitWSGI", "for_agent"]

FOR_BROWSERS = frozenset(
    {
        "airlock.security.static_files",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "allauth.account.middleware.AccountMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    }
)

API_PREFIX = "/api/v1/"
HEALTH_PATH = "/healthz"


class AgentHandler(WSGIHandler):
    """Django's WSGI handler with ``MIDDLEWARE`` less ``FOR_BROWSERS``.

    Build it at import, before any request is served, as ``airlock.asgi`` and
    ``airlock.wsgi`` do: Django's ``load_middleware`` reads the chain from
    ``settings.MIDDLEWARE``, so while it runs (in the constructor) that setting
    reads as the agent's list in every thread."""

    def load_middleware(self, is_async: bool = False) -> None:
        everything = settings.MIDDLEWARE
        settings.MIDDLEWARE = [path for path in everything if path not in FOR_BROWSERS]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = everything


def for_agent(environ: dict[str, Any]) -> bool:
    """Whether a request is one that ``AgentHandler`` serves the same as the full
    chain (see the module's docstring)."""
    if "HTTP_COOKIE" in environ:
        return False
    path = environ.get("PATH_INFO", "")
    if path.startswith(API_PREFIX):
        scheme = environ.get("HTTP_AUTHORIZATION", "").partition(" ")[0]
        return scheme.lower() == "bearer"
    return path == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET"


class SplitWSGI:
    """One WSGI app: ``for_agent`` requests to the agent's handler, the rest to the
    full one."""

    def __init__(self, full: Callable[..., Iterable[bytes]], agent: Callable[..., Iterable[bytes]]):
        self.full = full
        self.agent = agent

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        app = self.agent if for_agent(environ) else self.full
        return app(environ, start_response)
