"""airlock.asgi sends a request that waits (?wait=N, N > 0) to Django's ASGI
handler, which serves the view's async twin, and every other HTTP request to the
WSGI handler on the thread pool. The long-poll tests show the waiting path works end
to end on a real server; here, which request goes where."""

from __future__ import annotations

import pytest

from airlock.asgi import WaitingHandler, waits
from approvals.urls import urlpatterns


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", False),
        (b"status=pending", False),
        (b"wait=", False),
        (b"wait=0", False),
        (b"wait=5", True),
        (b"status=pending&wait=30", True),
        (b"wait=0&wait=5", True),  # Django reads the last value, so does the router
        (b"wait=5&wait=0", False),
        (b"wait=abc", True),  # the view refuses it (400) the same on either path
        (b"waiting=5", False),
        (b"x=wait%3D5", False),
    ],
)
def test_which_requests_wait(query, expected):
    assert waits({"type": "http", "query_string": query}) is expected


def test_the_waitable_views_have_an_async_twin_that_the_waiting_handler_serves():
    import inspect

    waiting = [p for p in urlpatterns if getattr(p.callback, "async_twin", None)]
    assert {p.name for p in waiting} == {"actions", "action-detail"}
    for pattern in waiting:
        assert not inspect.iscoroutinefunction(pattern.callback)  # the WSGI path: sync
        assert inspect.iscoroutinefunction(pattern.callback.async_twin)


def test_the_waiting_handler_resolves_a_waitable_view_to_its_twin_and_others_as_they_are():
    import inspect

    from django.test import RequestFactory

    handler = WaitingHandler()
    waiting = handler.resolve_request(RequestFactory().get("/api/v1/actions", {"wait": "5"}))
    assert inspect.iscoroutinefunction(waiting.func)
    assert waiting.func is waitable_twin("actions")
    plain = handler.resolve_request(RequestFactory().get("/healthz"))
    assert not inspect.iscoroutinefunction(plain.func)


def waitable_twin(name: str):
    return next(p.callback.async_twin for p in urlpatterns if p.name == name)
