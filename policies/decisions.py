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

    @property
    def strictness(self) -> int:
        return _STRICTNESS[self]


_STRICTNESS = {Effect.ALLOW: 0, Effect.REQUIRE_APPROVAL: 1, Effect.DENY: 2}


@dataclass(frozen=True)
class RequestFacts:
    """What policy may look at: the request as filed."""

    action: str
    resource: str
    environment: str = ""
    agent: str | None = None
    payload: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    justification: str = ""

    def as_variables(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "resource": self.resource,
            "environment": self.environment,
            "agent": self.agent,
            "payload": self.payload,
            "context": self.context,
            "justification": self.justification,
        }


@dataclass(frozen=True)
class Requirement:
    """``approvals`` distinct people from ``reviewers`` must approve (for ``rule``)."""

    rule: str
    approvals: int
    reviewers: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "approvals": self.approvals, "reviewers": list(self.reviewers)}


@dataclass(frozen=True)
class Decision:
    effect: Effect
    requirements: tuple[Requirement, ...] = ()
    timeout: timedelta | None = None
    require_justification: bool = False
    message: str = ""
    rules: tuple[str, ...] = ()
    version: int | None = None
    # Whether screening findings could change this decision. One that does not
    # depend on them is final at once (the fast path).
    depends_on_findings: bool = False
    # Rules whose `when` could not be evaluated, with the reason.
    errors: tuple[tuple[str, str], ...] = ()
    # Whether an eligible reviewer may reveal the original payload (policy `reveal`).
    reveal: bool = True

    @property
    def approvals(self) -> int:
        return sum(r.approvals for r in self.requirements)

    @property
    def reviewers(self) -> tuple[str, ...]:
        return tuple(sorted({g for r in self.requirements for g in r.reviewers}))

    def as_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect.value,
            "rules": list(self.rules),
            "version": self.version,
            "approvals": self.approvals,
            "reviewers": list(self.reviewers),
            "requirements": [r.as_dict() for r in self.requirements],
            "timeout_seconds": int(self.timeout.total_seconds()) if self.timeout else None,
            "require_justification": self.require_justification,
            "message": self.message,
            "depends_on_findings": self.depends_on_findings,
            "reveal": self.reveal,
            "errors": [{"rule": rule, "reason": reason} for rule, reason in self.errors],
        }


BUILTIN_DEFAULT = Decision(
    effect=Effect.REQUIRE_APPROVAL,
    requirements=(Requirement("default", 1, ("reviewers",)),),
    timeout=timedelta(hours=1),
)
