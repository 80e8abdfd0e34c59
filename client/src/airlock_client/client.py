"""Sync and async clients for Airlock's REST API (API.md), over httpx.

Both share one request builder and one retry policy:

- retries with exponential backoff and jitter (0.5 s doubling, capped at 8 s, minus up
  to a quarter at random) on connection errors, timeouts, 408, 429, 502, 503 and 504;
  a ``Retry-After`` (seconds or an HTTP date, or ``retry-after-ms``) replaces the
  backoff, capped at ``max_retry_after``;
- a POST is retried only when it is safe: ``POST /actions`` carries one
  ``Idempotency-Key`` (the caller's, or one made per logical call) on every attempt,
  so a retry whose first attempt did reach the server finds the same request; other
  POSTs (approve, deny, cancel, outcome) are retried only when the connection was
  never made;
- ``wait()`` long-polls ``GET /actions/{id}?wait=N`` with N at most 30 and the read
  timeout just above N, until the request is decided or an overall deadline passes.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from airlock_client import errors

TERMINAL = frozenset({"approved", "denied", "expired", "cancelled"})
OPEN = frozenset({"screening", "pending"})
MAX_SERVER_WAIT = 30
RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})

_UNSET: Any = object()


def _retry_after(response: httpx.Response) -> float | None:
    ms = response.headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class RetryPolicy:
    """How often and how long to back off. ``random`` is injectable for tests."""

    max_retries: int = 4
    base: float = 0.5
    cap: float = 8.0
    max_retry_after: float = 120.0
    # Jitter spreads retries; it guards nothing, so no cryptographic source.
    random: Callable[[], float] = field(default=random.random)  # noqa: S311

    def backoff(self, attempt: int) -> float:
        delay = min(self.base * 2**attempt, self.cap)
        return delay * (1 - 0.25 * self.random())

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            after = _retry_after(response)
            if after is not None:
                return min(after, self.max_retry_after)
        return self.backoff(attempt)


@dataclass
class _Call:
    method: str
    path: str
    json: Any = _UNSET
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    # Safe to resend after the request may have reached the server.
    resendable: bool = False


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class _Base:
    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
    ):
        url = url or os.environ.get("AIRLOCK_URL")
        token = token or os.environ.get("AIRLOCK_TOKEN")
        if not url:
            raise errors.AirlockError("no Airlock URL: pass url= or set AIRLOCK_URL")
        if not token:
            raise errors.AirlockError("no Airlock token: pass token= or set AIRLOCK_TOKEN")
        self.url = url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retry = retry or RetryPolicy()

    def __repr__(self) -> str:  # never the token
        return f"{type(self).__name__}({self.url!r})"

    def console_url(self, action_id: str) -> str:
        """Where a reviewer opens the request."""
        return f"{self.url}/actions/{action_id}/"

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    # --- the calls, as data -------------------------------------------------------

    @staticmethod
    def _submit_call(
        action: str,
        resource: str,
        *,
        environment: str | None,
        payload: Any,
        justification: str | None,
        on_behalf_of: str | None,
        callback_url: str | None,
        context: dict[str, Any] | None,
        idempotency_key: str | None,
        wait: int,
        timeout: float,
    ) -> _Call:
        body: dict[str, Any] = {"action": action, "resource": resource}
        optional = {
            "environment": environment,
            "justification": justification,
            "on_behalf_of": on_behalf_of,
            "callback_url": callback_url,
            "context": context,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        if payload is not _UNSET:
            body["payload"] = payload
        wait = max(0, min(int(wait), MAX_SERVER_WAIT))
        # One key per logical call: every retry of this submit sends the same one.
        key = idempotency_key or f"airlock-client-{uuid.uuid4()}"
        return _Call(
            "POST",
            "/api/v1/actions",
            json=body,
            params={"wait": wait} if wait else None,
            headers={"Idempotency-Key": key},
            timeout=timeout + wait if wait else None,
            resendable=True,
        )

    @staticmethod
    def _get_call(action_id: str, wait: int, timeout: float) -> _Call:
        wait = max(0, min(int(wait), MAX_SERVER_WAIT))
        return _Call(
            "GET",
            f"/api/v1/actions/{action_id}",
            params={"wait": wait} if wait else None,
            timeout=timeout + wait if wait else None,
            resendable=True,
        )

    def _request_args(self, call: _Call) -> dict[str, Any]:
        """What httpx's ``request`` is given for each attempt of ``call``."""
        return {
            "method": call.method,
            "url": call.path,
            "json": None if call.json is _UNSET else call.json,
            "params": call.params,
            "headers": {**self._headers, **call.headers},
            "timeout": call.timeout if call.timeout is not None else self.timeout,
        }

    def _next_delay(
        self,
        call: _Call,
        attempt: int,
        response: httpx.Response | None,
        failure: Exception | None,
        deadline: float | None,
    ) -> float | None:
        """After an attempt: the delay before the next one, or None when this
        attempt's answer is the call's (``_answer``): not retryable, out of retries,
        or a retry that would end after ``deadline``."""
        delay = self._should_retry(call, attempt, response, failure)
        if delay is not None and deadline is not None and time.monotonic() + delay > deadline:
            return None
        return delay

    def _answer(self, response: httpx.Response | None, failure: Exception | None) -> Any:
        if failure is not None:
            raise errors.TransportError(f"Airlock unreachable: {failure}") from failure
        assert response is not None
        return self._outcome(response)

    def _outcome(self, response: httpx.Response) -> Any:
        body = _body(response)
        if response.is_success:
            return body
        raise errors.for_response(response.status_code, body, _retry_after(response))

    def _should_retry(
        self, call: _Call, attempt: int, response: httpx.Response | None, exc: Exception | None
    ) -> float | None:
        """The delay before the next attempt, or None to stop here."""
        if attempt >= self.retry.max_retries:
            return None
        if exc is not None:
            never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            if not (never_sent or call.resendable):
                return None
            return self.retry.delay(attempt, None)
        assert response is not None
        if response.status_code not in RETRY_STATUSES:
            return None
        if response.status_code != 429 and not call.resendable:
            return None
        return self.retry.delay(attempt, response)


_RETRYABLE_EXC = (httpx.TransportError,)


class Airlock(_Base):
    """The synchronous client. ``transport`` (an httpx transport) is for tests and
    proxies; ``sleep`` is injectable so backoff can be observed."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__(url, token, timeout=timeout, retry=retry)
        self._http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Airlock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, call: _Call, deadline: float | None = None) -> Any:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            failure: Exception | None = None
            try:
                response = self._http.request(**self._request_args(call))
            except _RETRYABLE_EXC as exc:
                failure = exc
            delay = self._next_delay(call, attempt, response, failure, deadline)
            if delay is None:
                return self._answer(response, failure)
            self._sleep(delay)
            attempt += 1

    # --- the API --------------------------------------------------------------------

    def submit(
        self,
        action: str,
        resource: str,
        *,
        environment: str | None = None,
        payload: Any = _UNSET,
        justification: str | None = None,
        on_behalf_of: str | None = None,
        callback_url: str | None = None,
        context: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        wait: int = 0,
    ) -> dict[str, Any]:
        """File a request (``POST /api/v1/actions``); with ``wait``, hold up to that
        many seconds (at most 30) for a decision."""
        return self._send(
            self._submit_call(
                action,
                resource,
                environment=environment,
                payload=payload,
                justification=justification,
                on_behalf_of=on_behalf_of,
                callback_url=callback_url,
                context=context,
                idempotency_key=idempotency_key,
                wait=wait,
                timeout=self.timeout,
            )
        )

    def get(self, action_id: str, *, wait: int = 0) -> dict[str, Any]:
        return self._send(self._get_call(action_id, wait, self.timeout))

    def wait(self, action_id: str, *, timeout: float = 300.0) -> dict[str, Any]:
        """Long-poll until the request is decided or ``timeout`` seconds pass; the
        request as last seen (still open if the deadline came first)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            request = self._send(
                self._get_call(action_id, max(0, int(remaining)), self.timeout), deadline
            )
            if request.get("status") in TERMINAL or deadline - time.monotonic() < 1:
                return request

    def submit_and_wait(
        self, action: str, resource: str, *, timeout: float = 300.0, **kwargs: Any
    ) -> dict[str, Any]:
        """File, then wait for the decision; the request as last seen."""
        first = min(MAX_SERVER_WAIT, int(timeout))
        request = self.submit(action, resource, wait=first, **kwargs)
        if request.get("status") in OPEN and timeout - first >= 1:
            request = self.wait(request["id"], timeout=timeout - first)
        return request

    def list(self, **filters: str) -> dict[str, Any]:
        """One page of ``GET /api/v1/actions`` (``status``, ``action`` … filters):
        an agent's own requests, or those a person may review."""
        return self._send(_Call("GET", "/api/v1/actions", params=filters, resendable=True))

    def cancel(self, action_id: str) -> dict[str, Any]:
        return self._send(_Call("POST", f"/api/v1/actions/{action_id}/cancel", json={}))

    def report_outcome(
        self, action_id: str, result: str, detail: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"result": result}
        if detail:
            body["detail"] = detail
        return self._send(_Call("POST", f"/api/v1/actions/{action_id}/outcome", json=body))

    def approve(self, action_id: str, comment: str = "") -> dict[str, Any]:
        """For a reviewer's token (scripts, tests): approve a request."""
        return self._send(
            _Call("POST", f"/api/v1/actions/{action_id}/approve", json={"comment": comment})
        )

    def deny(self, action_id: str, reason: str) -> dict[str, Any]:
        return self._send(
            _Call("POST", f"/api/v1/actions/{action_id}/deny", json={"reason": reason})
        )

    def jwks(self) -> dict[str, Any]:
        """The grant-signing public keys (``/.well-known/jwks.json``)."""
        return self._send(_Call("GET", "/.well-known/jwks.json", resendable=True))

    def requires_approval(
        self, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        from airlock_client.decorator import requires_approval

        return requires_approval(client=self, **kwargs)


class AsyncAirlock(_Base):
    """The asynchronous client: the same calls, awaited."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        super().__init__(url, token, timeout=timeout, retry=retry)
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout, transport=transport)
        self._sleep = sleep

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncAirlock:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, call: _Call, deadline: float | None = None) -> Any:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            failure: Exception | None = None
            try:
                response = await self._http.request(**self._request_args(call))
            except _RETRYABLE_EXC as exc:
                failure = exc
            delay = self._next_delay(call, attempt, response, failure, deadline)
            if delay is None:
                return self._answer(response, failure)
            await self._sleep(delay)
            attempt += 1

    async def submit(
        self,
        action: str,
        resource: str,
        *,
        environment: str | None = None,
        payload: Any = _UNSET,
        justification: str | None = None,
        on_behalf_of: str | None = None,
        callback_url: str | None = None,
        context: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        wait: int = 0,
    ) -> dict[str, Any]:
        return await self._send(
            self._submit_call(
                action,
                resource,
                environment=environment,
                payload=payload,
                justification=justification,
                on_behalf_of=on_behalf_of,
                callback_url=callback_url,
                context=context,
                idempotency_key=idempotency_key,
                wait=wait,
                timeout=self.timeout,
            )
        )

    async def get(self, action_id: str, *, wait: int = 0) -> dict[str, Any]:
        return await self._send(self._get_call(action_id, wait, self.timeout))

    async def wait(self, action_id: str, *, timeout: float = 300.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            request = await self._send(
                self._get_call(action_id, max(0, int(remaining)), self.timeout), deadline
            )
            if request.get("status") in TERMINAL or deadline - time.monotonic() < 1:
                return request

    async def submit_and_wait(
        self, action: str, resource: str, *, timeout: float = 300.0, **kwargs: Any
    ) -> dict[str, Any]:
        first = min(MAX_SERVER_WAIT, int(timeout))
        request = await self.submit(action, resource, wait=first, **kwargs)
        if request.get("status") in OPEN and timeout - first >= 1:
            request = await self.wait(request["id"], timeout=timeout - first)
        return request

    async def list(self, **filters: str) -> dict[str, Any]:
        return await self._send(_Call("GET", "/api/v1/actions", params=filters, resendable=True))

    async def cancel(self, action_id: str) -> dict[str, Any]:
        return await self._send(_Call("POST", f"/api/v1/actions/{action_id}/cancel", json={}))

    async def report_outcome(
        self, action_id: str, result: str, detail: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"result": result}
        if detail:
            body["detail"] = detail
        return await self._send(_Call("POST", f"/api/v1/actions/{action_id}/outcome", json=body))

    async def jwks(self) -> dict[str, Any]:
        return await self._send(_Call("GET", "/.well-known/jwks.json", resendable=True))

    def requires_approval(
        self, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        from airlock_client.decorator import requires_approval

        return requires_approval(client=self, **kwargs)
