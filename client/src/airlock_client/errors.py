"""Typed errors: one class per error code of API.md, and the decisions that are not
"approved"."""

from __future__ import annotations

from typing import Any


class AirlockError(Exception):
    """Anything the client could not do. ``code`` is API.md's error code."""

    code = "airlock_error"

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message or self.code)
        self.message = message or self.code
        self.status = status
        if code:
            self.code = code
        self.details = details or {}
        self.retry_after = retry_after


class TransportError(AirlockError):
    """Airlock could not be reached, or did not answer in time, after every retry."""

    code = "transport_error"


class BadRequest(AirlockError):
    code = "validation_error"


class Unauthorized(AirlockError):
    code = "unauthorized"


class PermissionDenied(AirlockError):
    code = "permission_denied"


class SelfApproval(PermissionDenied):
    code = "self_approval"


class NotAReviewer(PermissionDenied):
    code = "not_a_reviewer"


class NotFound(AirlockError):
    code = "not_found"


class Conflict(AirlockError):
    code = "conflict"


class NotPending(Conflict):
    code = "not_pending"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class PayloadTooLarge(AirlockError):
    code = "payload_too_large"


class RateLimited(AirlockError):
    code = "rate_limited"


class ServiceUnavailable(AirlockError):
    code = "unavailable"


class InvalidGrant(AirlockError):
    """A grant that must not be acted on: bad signature, wrong type, audience or key,
    expired, not yet valid."""

    code = "invalid_grant"


class PayloadMismatch(InvalidGrant):
    """The grant is genuine but approves another payload."""

    code = "payload_mismatch"


class NotApproved(AirlockError):
    """The request was decided, or left, without approval. ``request`` is its
    representation."""

    code = "not_approved"

    def __init__(self, request: dict[str, Any]):
        status = request.get("status", "?")
        message = (request.get("policy") or {}).get("message") or ""
        super().__init__(
            f"Airlock request {request.get('id')} is {status}" + (f": {message}" if message else "")
        )
        self.request = request


class Denied(NotApproved):
    code = "denied"


class Expired(NotApproved):
    code = "expired"


class Cancelled(NotApproved):
    code = "cancelled"


class StillPending(NotApproved):
    """The deadline passed before anyone decided."""

    code = "still_pending"


BY_CODE: dict[str, type[AirlockError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        SelfApproval,
        NotAReviewer,
        NotFound,
        NotPending,
        AlreadyReviewed,
        IdempotencyConflict,
        PayloadTooLarge,
        PayloadMismatch,
        InvalidGrant,
    )
}
BY_STATUS: dict[int, type[AirlockError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    429: RateLimited,
    503: ServiceUnavailable,
}
DECISIONS: dict[str, type[NotApproved]] = {
    "denied": Denied,
    "expired": Expired,
    "cancelled": Cancelled,
}


def for_response(status: int, body: Any, retry_after: float | None = None) -> AirlockError:
    """The typed error for an error response in API.md's shape."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or "")
    cls = BY_CODE.get(code) or BY_STATUS.get(status) or AirlockError
    return cls(
        str(error.get("message") or f"HTTP {status}"),
        status=status,
        code=code or None,
        details=error.get("details") if isinstance(error.get("details"), dict) else None,
        retry_after=retry_after,
    )


def for_decision(request: dict[str, Any]) -> NotApproved:
    return DECISIONS.get(str(request.get("status")), StillPending)(request)
