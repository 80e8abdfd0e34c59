"""What every API view shares: the JSON parser, the error shape, the throttle.

Errors take one shape everywhere (API.md):
``{"error": {"code": "...", "message": "...", "details": {...}}}``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from airlock.cache import ResilientRedisCache, keep_read_along, riders, shared_cache
from airlock.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
)

logger = logging.getLogger(__name__)


# How long a client should wait before retrying while a dependency is away.
RETRY_AFTER_SECONDS = 5


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Last-one-wins would let {"action": "data.export", "action": "schema.drop"} show
    # a reviewer's tooling one action and file another.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            shown = key if len(key) <= 64 else key[:64] + "…"
            raise ValueError(f"duplicate key {shown!r}")
        out[key] = value
    return out


# U+0000 cannot be stored (PostgreSQL's text and jsonb refuse it) and an unpaired
# surrogate cannot be encoded as UTF-8 at all: refused on the way in, never a 500
# or a request stuck in screening later.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_fields(data: Any) -> dict[str, list[str]]:
    """The top-level fields of ``data`` with a string or key that cannot be stored.

    Iterative, so a deep body cannot exhaust the stack.
    """
    bad: dict[str, list[str]] = {}
    if isinstance(data, dict):
        roots: list[tuple[str, Any]] = list(data.items())
    else:
        roots = [("non_field_errors", data)]
    for field, value in roots:
        name = field if _UNSTORABLE.search(field) is None else "non_field_errors"
        stack: list[Any] = [field, value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                found = _UNSTORABLE.search(item)
                if found is not None:
                    what = "U+0000" if found.group() == "\x00" else "an unpaired surrogate"
                    bad[name] = [f"a string or key here contains {what}, which cannot be stored"]
                    break
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return bad


class StrictJSONParser(JSONParser):
    """JSON only: no NaN/Infinity, no duplicate keys, nothing that cannot be stored,
    and nesting too deep for Python's parser is a 400.

    The depth limits of API.md are checked by the serializers; this only stops input
    that would crash the parser itself (a RecursionError is not a ValueError).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            raw = stream.read() if stream is not None else b""
        except RequestDataTooBig as exc:
            raise RequestTooLarge() from exc
        if not raw:
            raise exceptions.ParseError("the request body is empty")
        try:
            data = json.loads(
                raw.decode("utf-8"),
                parse_constant=_reject_constant,
                object_pairs_hook=_reject_duplicates,
            )
        except RecursionError as exc:
            raise exceptions.ParseError("JSON nested too deeply") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error: {exc}") from exc
        bad = unstorable_fields(data)
        if bad:
            raise exceptions.ValidationError(bad)
        return data


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "the request body is too large"
    default_code = "payload_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "the database is not answering; try again shortly"
    default_code = "service_unavailable"

    def __init__(self, detail: str | None = None):
        super().__init__(detail)
        self.wait = RETRY_AFTER_SECONDS


def is_database_unavailable(exc: BaseException) -> bool:
    """A connection that failed, was dropped or could not be had from the pool.

    ``OperationalError`` also covers PostgreSQL's serialization failures and
    deadlocks, and SQLite's "database is locked": all worth a retry too.
    """
    return isinstance(exc, (OperationalError, InterfaceError))


# The one place where domain errors become HTTP statuses. Subclasses inherit their
# base's status unless listed themselves.
DOMAIN_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    PayloadTooLarge: 413,
    Unavailable: 503,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
}


def status_for(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 400


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(body, status=status_code, headers=headers)


_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.ParseError: "parse_error",
    exceptions.ValidationError: "validation_error",
    RequestTooLarge: "payload_too_large",
    ServiceUnavailable: "service_unavailable",
}


def _flatten(detail: Any) -> Any:
    """DRF's ErrorDetail lists as plain strings, nested as the input was."""
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return error_response(status_for(exc), exc.code, exc.message, exc.details)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, DatabaseError) and is_database_unavailable(exc):
        logger.warning("database unavailable: %s", type(exc.__cause__ or exc).__name__)
        exc = ServiceUnavailable()
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: Django's 500 handling and logging take over

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]

    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten(exc.detail)
        if not isinstance(details, dict):
            details = {"non_field_errors": details}
        return error_response(exc.status_code, code, "the request is not valid", details, headers)
    message = str(exc.detail) if not isinstance(exc.detail, (list, dict)) else code
    return error_response(exc.status_code, code, message, {}, headers)


# A sliding-window counter: this window's count plus the previous window's, weighted
# by how much of it still overlaps the last ``duration`` seconds. One round trip (a
# script, so the check and the count are one step), O(1) per request whatever the
# rate; DRF's SimpleRateThrottle keeps every timestamp of the window in one pickled
# list and reads and rewrites it on each request (1,200 floats at the default rate).
# KEYS[3:] are the cache's riders (airlock.cache.read_along), read in the same trip.
_SLIDING_WINDOW = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local allowed = 0
if previous * tonumber(ARGV[2]) + current < tonumber(ARGV[1]) then
  allowed = 1
  current = current + 1
  redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
local answer = {allowed, current, previous}
for i = 3, #KEYS do
  answer[i + 1] = redis.call('GET', KEYS[i])
end
return answer
"""


class _LocalWindows:
    """The same counter in this process's memory, while Redis is away: each process
    then limits on its own (a client spread over N processes gets up to N times its
    rate), looser than one shared count but never unlimited, and never an error."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, current: str, previous: str, limit: int, weight: float) -> tuple[bool, int, int]:
        with self._lock:
            now, before = self._counts.get(current, 0), self._counts.get(previous, 0)
            if before * weight + now >= limit:
                return False, now, before
            if len(self._counts) >= self.MAX_KEYS:
                self._counts.clear()  # forgets budgets, never grows without bound
            self._counts[current] = now + 1
            return True, now + 1, before


_local_windows = _LocalWindows()


class PrincipalRateThrottle(SimpleRateThrottle):
    """One budget per authenticated principal (agent or person), per client IP otherwise."""

    scope = "principal"
    num_requests: int  # set from the rate by SimpleRateThrottle
    duration: int
    _scripts: dict[int, Any] = {}

    def get_cache_key(self, request, view):
        principal = request.user
        if getattr(principal, "is_agent", False):
            ident = f"agent:{principal.pk}"
        elif principal is not None and principal.is_authenticated:
            ident = f"user:{principal.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window, into = divmod(now, self.duration)
        self.weight = 1.0 - into / self.duration
        self.into = into
        current, previous = f"{key}:{int(window)}", f"{key}:{int(window) - 1}"
        shared = shared_cache()
        answer = None
        if isinstance(shared, ResilientRedisCache) and shared.available():
            along = riders()
            keys = [shared.make_key(current), shared.make_key(previous)]
            keys += [shared.make_key(key) for key in along]
            answer = shared.run(
                lambda client: self._script(client)(
                    keys=keys, args=[self.num_requests, self.weight, 2 * self.duration + 1]
                ),
                None,
            )
        if answer is None:
            allowed, self.current, self.previous = _local_windows.hit(
                current, previous, self.num_requests, self.weight
            )
        else:
            allowed, self.current, self.previous = bool(answer[0]), int(answer[1]), int(answer[2])
            values = answer[3:]  # each rider's value, None where the key is missing
            if along and len(values) == len(along):
                keep_read_along(dict(zip(along, values, strict=True)))
        return allowed

    def _script(self, client: Any) -> Any:
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts[id(client)] = client.register_script(_SLIDING_WINDOW)
        return script

    def wait(self) -> float | None:
        """Seconds until this principal's next request would be counted."""
        remaining = self.duration - self.into
        if self.current >= self.num_requests or not self.previous:
            seconds = remaining  # this window alone is full: wait for the next one
        else:
            # The previous window's weight must fall until the estimate is under the limit.
            weight_needed = (self.num_requests - self.current) / self.previous
            seconds = min(remaining, (1.0 - weight_needed) * self.duration - self.into)
        return max(1, math.ceil(seconds))  # Retry-After is whole seconds, never 0


__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "PrincipalRateThrottle",
    "StrictJSONParser",
    "error_response",
    "exception_handler",
]
