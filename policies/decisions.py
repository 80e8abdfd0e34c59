"""What policy answers about one request. Pure data: no Django, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any


class Effect(StrEnum):
    ALLOW = "allow"
    REQUIRE_APPROVAL = "require_approval"
    DENY = "deny"


@dataclass(frozen=True)
class RequestFacts:
    """What policy may look at: the request as filed, never the raw payload's secrets."""

    action: str
    resource: str
    environment: str = ""
    agent: str | None = None
    payload: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    justification: str = ""


@dataclass(frozen=True)
class Decision:
    effect: Effect
    approvals: int = 0
    reviewers: tuple[str, ...] = ()
    timeout: timedelta | None = None
    require_justification: bool = False
    message: str = ""
    rules: tuple[str, ...] = ()
    version: int | None = None
    # Whether the payload's screening findings could change this decision. A decision
    # that does not depend on them is final at once (the fast path).
    depends_on_findings: bool = False


BUILTIN_DEFAULT = Decision(
    effect=Effect.REQUIRE_APPROVAL,
    approvals=1,
    reviewers=("reviewers",),
    timeout=timedelta(hours=1),
)
