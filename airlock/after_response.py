"""Work that follows a request's commit but not its answer: run after the response.

A change's side effects (the live queue's broadcast, the chat messages' plan, the
outbox's receipt) are handed on right after its commit. Inside a request they need
not hold the answer back: ``defer(fn)`` keeps ``fn`` until the response has been
sent (Django's ``request_finished``, which WSGI servers, a2wsgi included, send from
the response's ``close()`` once the last byte is written) and runs it then, on the
same thread. Outside a request (a Celery task, a management command, a test's
captured on-commit callbacks) it runs at once.

Nothing is lost that was not already at risk: work deferred here is work that was
already run after commit, and a process that dies before running it leaves its
outbox event due for ``approvals.dispatch.sweep``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from asgiref.local import Local
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

__all__ = ["defer"]

logger = logging.getLogger(__name__)

# Per thread under WSGI, per task under ASGI: the request being served, if any.
_state = Local()


def defer(work: Callable[[], Any]) -> None:
    """Run ``work`` once the current request's response is sent; at once outside
    one. An exception in it is logged, never raised into the response."""
    pending: list[Callable[[], Any]] | None = getattr(_state, "pending", None)
    if pending is None:
        work()
    else:
        pending.append(work)


def _started(**_: Any) -> None:
    _run(getattr(_state, "pending", None))  # left by a response never closed: run it now
    _state.pending = []


def _finished(**_: Any) -> None:
    pending: list[Callable[[], Any]] | None = getattr(_state, "pending", None)
    _state.pending = None
    _run(pending)


def _run(pending: list[Callable[[], Any]] | None) -> None:
    if not pending:
        return
    for work in pending:
        try:
            work()
        except Exception:
            logger.exception("after the response: %r failed", work)


request_started.connect(_started, dispatch_uid="airlock.after_response.started")
request_finished.connect(_finished, dispatch_uid="airlock.after_response.finished")
# Before Django's own receiver gives the request's database connection back, so the
# work uses it rather than taking another from the pool: receivers run in the order
# they were connected.
request_finished.disconnect(close_old_connections)
request_finished.connect(close_old_connections)
