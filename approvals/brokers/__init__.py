"""Credential brokers: at a redemption, mint a temporary credential scoped to the
approved resource; at its expiry or on revocation, take it away.

A broker is a small plug-in (``Broker``): ``mint(grant, options) -> Issued`` and
``revoke(handle, scope)``. It never stores or logs the secret: the secret goes back
once, in the redemption response; Airlock keeps only the broker's ``handle`` (a role
name, an access key id) to revoke it. Rules opt in per rule
(``grant: {broker: postgres_role, privileges: [SELECT]}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class BrokerError(RuntimeError):
    """The broker could not mint or revoke (its service is down, refused, or is not
    configured). The message never holds a secret."""


@dataclass(frozen=True)
class GrantContext:
    """What a broker may know of the redeemed grant."""

    jti: str
    request_id: str
    agent: str
    action: str
    resource: str
    expires_at: datetime


@dataclass(frozen=True)
class Issued:
    handle: str
    scope: str
    expires_at: datetime
    # Delivered once to the executor, never stored or logged.
    secret: dict[str, Any] = field(repr=False)


class Broker(Protocol):
    kind: str

    def mint(self, grant: GrantContext, options: dict[str, Any]) -> Issued: ...

    def revoke(self, handle: str, scope: str, *, expired: bool) -> None:
        """Take the credential away; ``expired``: its own lifetime is over (the
        sweep's regular case), else its grant was revoked early."""
        ...


def get(kind: str) -> Broker:
    if kind == "postgres_role":
        from approvals.brokers.postgres_role import PostgresRoleBroker

        return PostgresRoleBroker()
    if kind == "aws_sts":
        from approvals.brokers.aws_sts import AwsStsBroker

        return AwsStsBroker()
    raise BrokerError(f"no credential broker {kind!r}")
