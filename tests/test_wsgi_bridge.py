"""airlock.wsgi_bridge: a WSGI app served to ASGI with one hand-over per buffered
answer. Driven here as uvicorn drives it (scope, receive, send) with small WSGI apps
that record what they saw; Django through it is exercised by every test that starts
a real server (tests/live.py, the long-poll and fault tests)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from airlock.wsgi_bridge import BufferedWSGI


def scope(method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": "/x",
        "raw_path": b"/x",
        "query_string": b"a=1",
        "root_path": "",
        "scheme": "http",
        "headers": headers or [],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5555),
    }


def serve(app: Any, scope: dict, chunks: list[bytes] = (), max_body: int = 1024) -> list[dict]:
    sent: list[dict] = []
    inbox = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks or [b""])
    ]

    async def receive() -> dict:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    bridge = BufferedWSGI(app, threads=2, max_body=max_body)
    asyncio.run(bridge(scope, receive, send))
    return sent


class Recorder:
    """A WSGI app that echoes what it read and notes where its close() ran."""

    def __init__(self) -> None:
        self.thread: int | None = None
        self.closed_on: int | None = None

    def __call__(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        self.thread = threading.get_ident()
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response(
            "201 Created", [("Content-Type", "text/plain"), ("X-Seen", environ["QUERY_STRING"])]
        )
        recorder = self

        class Answer(list):
            def close(self) -> None:
                recorder.closed_on = threading.get_ident()

        return Answer([b"got ", body])


def test_a_buffered_answer_is_one_start_and_one_body_and_closed_on_the_app_thread():
    app = Recorder()
    sent = serve(app, scope("POST", [(b"content-length", b"5")]), [b"he", b"llo"])
    assert sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"text/plain"), (b"x-seen", b"a=1")],
        },
        {"type": "http.response.body", "body": b"got hello"},
    ]
    assert app.closed_on == app.thread is not None


def test_a_request_without_a_body_reads_nothing():
    app = Recorder()
    assert serve(app, scope())[-1]["body"] == b"got "


def streamed(environ: dict, start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/csv")])  # lazily, as generators do
    yield b"a,b\n"
    yield b""
    yield b"1,2\n"


def test_a_generator_is_streamed_chunk_by_chunk():
    sent = serve(streamed, scope())
    assert [m["type"] for m in sent] == ["http.response.start"] + ["http.response.body"] * 3
    assert [m.get("body") for m in sent[1:]] == [b"a,b\n", b"1,2\n", b""]
    assert [m.get("more_body", False) for m in sent[1:]] == [True, True, False]


def test_a_response_marked_streaming_is_streamed_and_closed_after_its_last_chunk():
    events: list[str] = []

    class Streaming:
        streaming = True

        def __iter__(self) -> Iterator[bytes]:
            events.append("iterated")
            yield b"x" * 10

        def close(self) -> None:
            events.append("closed")

    def app(environ: dict, start_response: Any) -> Streaming:
        start_response("200 OK", [])
        return Streaming()

    sent = serve(app, scope())
    assert [m.get("body") for m in sent[1:]] == [b"x" * 10, b""]
    assert events == ["iterated", "closed"]


def test_the_legacy_write_callable_is_kept_before_the_body():
    def app(environ: dict, start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"early ")
        return [b"late"]

    assert serve(app, scope())[-1]["body"] == b"early late"


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"2000")],  # over max_body: Django reads only what it needs
        [(b"transfer-encoding", b"chunked")],  # no length to buffer up to
        [(b"content-length", b"nonsense")],
    ],
)
def test_what_cannot_be_buffered_goes_to_a2wsgi_and_still_reads_the_body(headers):
    seen: list[bytes] = []

    def app(environ: dict, start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read(10))
        start_response("413 Request Entity Too Large", [])
        return [b"too large"]

    sent = serve(app, scope("POST", headers), [b"0123456789", b"more"], max_body=1024)
    assert seen == [b"0123456789"]
    assert sent[0]["status"] == 413
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"too large"


def test_an_app_that_raises_is_not_answered_by_the_bridge():
    def app(environ: dict, start_response: Any) -> list[bytes]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        serve(app, scope())
