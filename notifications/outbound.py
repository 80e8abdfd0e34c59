"""Outgoing HTTP to addresses someone else chose or that answer for someone else
(webhooks, callbacks, Teams: Workflows, the Bot Connector, the Entra token endpoint,
the Bot Framework's published keys).

The URL is checked (``airlock.netsafety``), its host resolved once, and every
address it resolves to must be public unless private addresses are allowed (DEBUG,
tests); the connection then goes to that very address (pinned), so a name that
answers differently a moment later (DNS rebinding) cannot move the request inside.
TLS still checks the certificate against the host name. Redirects are never
followed, the exchange is bounded in time and the answer in size.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from airlock.netsafety import UnsafeURL, check_outbound_url, is_public_address

Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# Tests swap this for a resolver of their own: they run with no DNS at all.
resolve: Resolver = system_resolver


class PermanentFailure(Exception):
    """Sending again will not help (a 4xx, an unsafe address, a redirect)."""


class TransientFailure(Exception):
    """Sending again later may succeed (a timeout, a 5xx, a 429, a refused connection)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def pinned_address(url: str, *, allow_http: bool, allow_private: bool) -> tuple[str, int, str]:
    """(host, port, address to connect to) for ``url``, or ``UnsafeURL``."""
    check_outbound_url(url, allow_http=allow_http, allow_private=allow_private)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolve(host, port)
        except OSError as exc:
            raise TransientFailure(f"cannot resolve the host: {exc}") from exc
    if not addresses:
        raise TransientFailure("the host has no address")
    if not allow_private:
        for address in addresses:
            if not is_public_address(ipaddress.ip_address(address.split("%")[0])):
                raise UnsafeURL("the host resolves to a private, loopback or link-local address")
    return host, port, addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow_http: bool,
    allow_private: bool,
    timeout: float,
    max_response_bytes: int,
) -> Answer:
    """POST ``body`` to ``url``; a 2xx answer, or a ``PermanentFailure`` /
    ``TransientFailure`` saying why not."""
    return request(
        "POST",
        url,
        body,
        headers,
        allow_http=allow_http,
        allow_private=allow_private,
        timeout=timeout,
        max_response_bytes=max_response_bytes,
    )


def request(
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str],
    *,
    allow_http: bool,
    allow_private: bool,
    timeout: float,
    max_response_bytes: int,
) -> Answer:
    """``method`` (GET, POST, PUT) to ``url`` through the same checks as ``post``."""
    try:
        host, port, address = pinned_address(
            url, allow_http=allow_http, allow_private=allow_private
        )
    except UnsafeURL as exc:
        raise PermanentFailure(f"unsafe_url: {exc}") from exc
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    deadline = time.monotonic() + timeout
    connection = cls(host, port, address, timeout)
    try:
        connection.request(method, path, body=body, headers={**headers, "Connection": "close"})
        response = connection.getresponse()
        chunks: list[bytes] = []
        size = 0
        while size <= max_response_bytes:
            if time.monotonic() > deadline:
                raise TransientFailure("the receiver took too long to answer")
            chunk = response.read(min(8192, max_response_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        status = response.status
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise TransientFailure(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
    return _judge(Answer(status, b"".join(chunks)[:max_response_bytes]))


def _judge(answer: Answer) -> Answer:
    status = answer.status
    if 200 <= status < 300:
        return answer
    if 300 <= status < 400:
        raise PermanentFailure(f"HTTP {status}: redirects are not followed")
    if status in (408, 425, 429) or status >= 500:
        raise TransientFailure(f"HTTP {status}")
    raise PermanentFailure(f"HTTP {status}")
