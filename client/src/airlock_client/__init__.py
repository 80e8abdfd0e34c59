"""The agent side of Airlock: clients, the decorator, grant verification."""

from airlock_client.canonical import canonical_bytes, payload_sha256
from airlock_client.client import Airlock, AsyncAirlock, RetryPolicy
from airlock_client.decorator import requires_approval
from airlock_client.errors import (
    AirlockError,
    Cancelled,
    Denied,
    Expired,
    InvalidGrant,
    NotApproved,
    PayloadMismatch,
    StillPending,
    TransportError,
)
from airlock_client.grants import verify_grant

__all__ = [
    "Airlock",
    "AirlockError",
    "AsyncAirlock",
    "Cancelled",
    "Denied",
    "Expired",
    "InvalidGrant",
    "NotApproved",
    "PayloadMismatch",
    "RetryPolicy",
    "StillPending",
    "TransportError",
    "canonical_bytes",
    "payload_sha256",
    "requires_approval",
    "verify_grant",
]
