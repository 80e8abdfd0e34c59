"""What every API view shares: the JSON parser, the error shape, the throttle.

Errors take one shape everywhere (API.md):
``{"error": {"code": "...", "message": "...", "details": {...}}}``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.cache import BaseCache
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from airlock.cache import shared_cache
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


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class StrictJSONParser(JSONParser):
    """JSON only: no NaN/Infinity, and nesting too deep for Python's parser is a 400.

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
            return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON nested too deeply") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error: {exc}") from exc


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "the request body is too large"
    default_code = "payload_too_large"


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
    """A descriptor: DRF reads ``cache`` off the throttle class."""

    def __get__(self, instance: object, owner: type) -> BaseCache:
        return shared_cache()


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
