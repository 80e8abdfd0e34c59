"""What every API view shares: the JSON parser, the error shape, the throttle.

Errors take one shape everywhere (API.md):
``{"error": {"code": "...", "message": "...", "details": {...}}}``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.core.cache import BaseCache
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from airlock.cache import cache_available, shared_cache
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


class _SharedCache:
    """A descriptor: DRF reads ``cache`` off the throttle class.

    While Redis is away the budget is kept in this process's memory instead: each
    process then limits on its own (a client spreading over N processes gets up to
    N times its rate), which is looser than one shared count but never unlimited,
    and never an error.
    """

    def __get__(self, instance: object, owner: type) -> BaseCache:
        shared = shared_cache()
        if cache_available(shared):
            return shared
        return _local_throttle_cache()


_local: BaseCache | None = None


def _local_throttle_cache() -> BaseCache:
    global _local
    if _local is None:
        from django.core.cache.backends.locmem import LocMemCache

        _local = LocMemCache("airlock-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})
    return _local


class PrincipalRateThrottle(SimpleRateThrottle):
    """One budget per authenticated principal (agent or person), per client IP otherwise."""

    scope = "principal"
    cache = _SharedCache()

    def get_cache_key(self, request, view):
        principal = request.user
        if getattr(principal, "is_agent", False):
            ident = f"agent:{principal.pk}"
        elif principal is not None and principal.is_authenticated:
            ident = f"user:{principal.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


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
