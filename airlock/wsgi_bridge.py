"""Django's WSGI handler on a thread pool, served to ASGI with the fewest hops.

A WSGI app served from an event loop crosses between the loop and a worker thread
for every step: a2wsgi (the general bridge) blocks the worker on the loop three
times per response (the status line, the body, its end) and reads the request body
through the loop on demand. Under load each crossing waits for the loop and for the
GIL; on the allowed fast path they were a fifth of a request's time.

An API request is small and its answer is one buffered body, so here:

- the request body is read on the loop before the app runs (when it declares a
  ``Content-Length`` of at most ``max_body`` bytes), and handed to the app as a
  stream in memory;
- the worker runs the app, joins the body, hands status, headers and body to the
  loop in one message without waiting, and then closes the response on its own
  thread: Django's ``request_finished`` (``airlock.after_response``, the database
  connection's return) runs there, while the loop writes the answer;
- a streaming response (exports, evidence downloads) is sent chunk by chunk, the
  worker waiting for each so a slow reader holds it back, then closed.

Anything else (a chunked upload, a body over ``max_body``, so that Django can refuse
it with a 413 having read only what it needs) goes to a2wsgi.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import io
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ

__all__ = ["BufferedWSGI"]

Message = dict[str, Any]


class BufferedWSGI:
    def __init__(self, app: Callable[..., Iterable[bytes]], *, threads: int, max_body: int):
        self.app = app
        self.max_body = max_body
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")
        self.fallback = WSGIMiddleware(app, workers=max(2, threads // 2))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        length = _content_length(scope)
        if length is None or length > self.max_body:
            await self.fallback(scope, receive, send)  # type: ignore[arg-type]
            return
        body = await _read_body(receive, length)
        environ: dict[str, Any] = build_environ(scope, io.BytesIO(body))  # type: ignore[arg-type,assignment]
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        serve = functools.partial(context.run, self._serve, environ, loop, send)
        sent: Future[None] | None = await loop.run_in_executor(self.executor, serve)
        if sent is not None:
            await asyncio.wrap_future(sent)

    def _serve(
        self, environ: dict[str, Any], loop: asyncio.AbstractEventLoop, send: Any
    ) -> Future[None] | None:
        """On the worker: run the app and answer. Returns the loop's pending send of a
        buffered answer (the response is closed already), or None when the answer
        was streamed."""
        started: list[Message] = []
        written: list[bytes] = []
        streamed: list[bool] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and streamed:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [
                {
                    "type": "http.response.start",
                    "status": int(status.split(" ", 1)[0]),
                    "headers": [
                        (name.lower().encode("latin-1"), value.encode("latin-1"))
                        for name, value in headers
                    ],
                }
            ]
            return written.append  # WSGI's legacy write(): kept with the body

        response = self.app(environ, start_response)
        try:
            if getattr(response, "streaming", False) or not started:
                streamed.append(True)  # the status line may be out: too late to change it
                self._stream(response, started, written, loop, send)
                return None
            body = b"".join([*written, *response])
            sent = asyncio.run_coroutine_threadsafe(
                _send_all(send, [started[0], {"type": "http.response.body", "body": body}]), loop
            )
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()  # request_finished: on this thread, as the answer goes out
        return sent

    @staticmethod
    def _stream(
        response: Iterable[bytes],
        started: list[Message],
        written: list[bytes],
        loop: asyncio.AbstractEventLoop,
        send: Any,
    ) -> None:
        def now(message: Message) -> None:
            asyncio.run_coroutine_threadsafe(send(message), loop).result()

        chunks = iter(response)
        first = next(chunks, b"")  # a generator may call start_response only now
        if not started:
            raise RuntimeError("the WSGI app returned without calling start_response")
        now(started[0])
        for chunk in (*written, first):
            if chunk:
                now({"type": "http.response.body", "body": chunk, "more_body": True})
        for chunk in chunks:
            if chunk:
                now({"type": "http.response.body", "body": chunk, "more_body": True})
        now({"type": "http.response.body", "body": b""})


async def _send_all(send: Any, messages: list[Message]) -> None:
    for message in messages:
        await send(message)


def _content_length(scope: dict[str, Any]) -> int | None:
    """The declared body length; 0 for a request that declares none and is not
    chunked; None when it cannot be buffered up front."""
    length: int | None = 0
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return None
            if length < 0:
                return None
    return length


async def _read_body(receive: Any, length: int) -> bytes:
    if length == 0:
        return b""
    parts: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        parts.append(chunk)
        received += len(chunk)
        if not message.get("more_body", False) or received > length:
            break
    return b"".join(parts)
