"""Retries against a local HTTP server that answers 429 and 503 with Retry-After
before it answers properly (no Airlock needed: this is the client's own policy)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airlock_client import Airlock, RetryPolicy, TransportError
from airlock_client.errors import AirlockError, BadRequest, RateLimited, ServiceUnavailable

REQUEST = {"id": "0f9a", "status": "pending", "grant": None}


@contextmanager
def scripted_server(script: list[tuple[int, dict[str, str]]]) -> Iterator[tuple[str, list]]:
    """Answers each request with the next (status, headers) of ``script``, then 201."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen.append(
                {
                    "at": time.monotonic(),
                    "path": self.path,
                    "key": self.headers.get("Idempotency-Key"),
                    "body": self.rfile.read(length) if length else b"",
                }
            )
            status, headers = script.pop(0) if script else (201, {})
            body = (
                REQUEST
                if status < 400
                else {"error": {"code": "rate_limited" if status == 429 else "x", "message": "m"}}
            )
            raw = json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_retry_after_is_honoured_and_the_key_reused():
    script = [(503, {"Retry-After": "1"}), (429, {"Retry-After": "1"})]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with scripted_server(script) as (url, seen), Airlock(url, "t", sleep=sleep) as client:
        assert client.submit("data.export", "db://x", payload={"a": 1}) == REQUEST
    assert slept == [1.0, 1.0]
    assert len(seen) == 3
    assert seen[1]["at"] - seen[0]["at"] >= 1.0
    assert seen[2]["at"] - seen[1]["at"] >= 1.0
    assert len({s["key"] for s in seen}) == 1
    assert seen[0]["key"]
    assert len({s["body"] for s in seen}) == 1


def test_retry_after_in_milliseconds_and_as_a_date():
    script = [
        (503, {"retry-after-ms": "250"}),
        (503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
    ]
    slept: list[float] = []
    with scripted_server(script) as (url, _), Airlock(url, "t", sleep=slept.append) as client:
        client.get("0f9a")
    assert slept == [0.25, 0.0]  # a date in the past: retry at once


def test_backoff_doubles_with_jitter_up_to_the_cap_then_gives_up():
    policy = RetryPolicy(max_retries=5, random=lambda: 1.0)
    assert [policy.backoff(n) for n in range(6)] == [0.375, 0.75, 1.5, 3.0, 6.0, 6.0]
    policy = RetryPolicy(max_retries=5, random=lambda: 0.0)
    assert [policy.backoff(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    script = [(502, {})] * 10
    slept: list[float] = []
    retry = RetryPolicy(max_retries=2, random=lambda: 0.0)
    with (
        scripted_server(script) as (url, seen),
        Airlock(url, "t", retry=retry, sleep=slept.append) as client,
        pytest.raises(AirlockError) as failed,
    ):
        client.get("0f9a")
    assert len(seen) == 3
    assert slept == [0.5, 1.0]
    assert getattr(failed.value, "status", None) == 502


def test_a_rate_limit_that_outlasts_the_retries_is_a_typed_error():
    script = [(429, {"Retry-After": "0"})] * 10
    retry = RetryPolicy(max_retries=1)
    with (
        scripted_server(script) as (url, _),
        Airlock(url, "t", retry=retry, sleep=lambda _: None) as c,
        pytest.raises(RateLimited) as limited,
    ):
        c.submit("data.export", "db://x")
    assert limited.value.retry_after == 0.0


def test_bad_input_is_not_retried():
    with (
        scripted_server([(400, {})]) as (url, seen),
        Airlock(url, "t") as client,
        pytest.raises(BadRequest),
    ):
        client.submit("data.export", "db://x")
    assert len(seen) == 1


def test_an_approve_is_not_resent_once_it_may_have_arrived():
    with (
        scripted_server([(503, {"Retry-After": "0"})]) as (url, seen),
        Airlock(url, "t") as c,
        pytest.raises(ServiceUnavailable),
    ):
        c.approve("0f9a")
    assert len(seen) == 1


def test_unreachable_is_a_transport_error_after_the_retries():
    slept: list[float] = []
    retry = RetryPolicy(max_retries=2, random=lambda: 0.0)
    with (
        Airlock("http://127.0.0.1:9", "secret-token", retry=retry, sleep=slept.append) as c,
        pytest.raises(TransportError) as failed,
    ):
        c.get("0f9a")
    assert slept == [0.5, 1.0]
    assert "secret-token" not in str(failed.value)
    assert "secret-token" not in repr(c)
