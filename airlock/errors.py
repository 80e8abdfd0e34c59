"""Domain errors shared by the apps.

A domain error names what went wrong in the domain's words (``code``); it knows
nothing of HTTP. ``airlock.api`` maps each class to a status code in one table.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal a service can raise."""

    code = "domain_error"
    message = "the request cannot be carried out"

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or {}


class InvalidInput(DomainError):
    """Bad input found by a service rather than by a serializer."""

    code = "validation_error"
    message = "the request is not valid"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    message = "the request is too large"


class NotFound(DomainError):
    code = "not_found"
    message = "not found"


class Forbidden(DomainError):
    code = "permission_denied"
    message = "you are not allowed to do this"


class Conflict(DomainError):
    code = "conflict"
    message = "the request conflicts with the current state"


class Unauthorized(DomainError):
    """A credential presented to a service (not the caller's own login) is not valid."""

    code = "unauthorized"
    message = "the credential is not valid"


class Unavailable(DomainError):
    """A service Airlock depends on could not do its part; try again later."""

    code = "unavailable"
    message = "a service Airlock depends on is unavailable"
