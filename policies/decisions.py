"""What policy answers about one request. Pure data: no Django, no database."""

from __future__ import annotations

from collections.abc import Mapping
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
    """What policy may look at: the request as filed.

    Built only by ``from_mapping``, from a request as filed, as stored, or as a
    simulation describes it, so filing, screening, backtests, simulation and the
    console see the same facts. A new fact is a field here and a line there.
    """

    action: str
    resource: str
    environment: str = ""
    agent: str | None = None
    payload: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    justification: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RequestFacts:
        """Facts from anything keyed like API.md's request (unknown keys ignored)."""
        return cls(
            action=data["action"],
            resource=data["resource"],
            environment=data.get("environment") or "",
            agent=data.get("agent") or None,
            payload=data.get("payload"),
            context=dict(data.get("context") or {}),
            justification=data.get("justification") or "",
        )

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
    # Reviewer groups of require_approval rules that did not match only because
    # their data classes were not (yet) found: who may review once screening finds them.
    could_review: tuple[str, ...] = ()
    # What an approval of this request issues (``grant_of``): {"ttl", "audience",
    # "broker"}, or {"refused": reason} when the deciding rules disagree. None: deny.
    grant: dict[str, Any] | None = None

    @property
    def approvals(self) -> int:
        """The fewest distinct approvals that can decide the request: the largest
        requirement. One approval counts toward every requirement whose reviewer
        groups hold the approver, so the sum would overstate it (2 from ``privacy``
        and 3 from ``privacy`` are met by three people). It never overstates; each
        requirement's own progress is the full truth."""
        return max((r.approvals for r in self.requirements), default=0)

    @property
    def reviewers(self) -> tuple[str, ...]:
        return tuple(sorted({g for r in self.requirements for g in r.reviewers}))

    @property
    def possible_reviewers(self) -> tuple[str, ...]:
        """Everyone this decision, or a decision after screening, could ask."""
        return tuple(sorted({*self.reviewers, *self.could_review}))

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
            "grant": self.grant,
            "errors": [{"rule": rule, "reason": reason} for rule, reason in self.errors],
        }


DEFAULT_GRANT_AUDIENCE = "airlock"
DEFAULT_GRANT_TTL_SECONDS = 300


def grant_of(deciding: list[dict[str, Any]]) -> dict[str, Any]:
    """The grant the deciding rules (or the default) give an approval: the shortest
    ``grant_ttl`` any of them names, and the audience and broker they name. Rules
    that name different audiences or brokers give no grant at all: picking one
    would let rule order widen what an approval hands out."""
    ttls = [r["grant_ttl"] for r in deciding if r.get("grant_ttl")]
    specs = [(r["name"], r["grant"]) for r in deciding if r.get("grant")]
    audiences = {g["audience"] for _, g in specs if "audience" in g}
    brokers = {
        tuple(sorted((k, str(v)) for k, v in g.items() if k != "audience"))
        for _, g in specs
        if "broker" in g
    }
    if len(audiences) > 1 or len(brokers) > 1:
        names = ", ".join(sorted(name for name, _ in specs))
        return {"refused": f"rules {names} name different grant audiences or brokers"}
    broker = next(
        ({k: v for k, v in g.items() if k != "audience"} for _, g in specs if "broker" in g), None
    )
    return {
        "ttl": min(ttls, default=DEFAULT_GRANT_TTL_SECONDS),
        "audience": next(iter(audiences), DEFAULT_GRANT_AUDIENCE),
        "broker": broker,
    }


# API.md's built-in default, as a policy document's ``default`` outcome: what applies
# when no policy is stored, and what a rule's omitted fields inherit.
DEFAULT_OUTCOME: dict[str, Any] = {
    "effect": "require_approval",
    "approvals": 1,
    "reviewers": ["reviewers"],
    "timeout": 3600,
    "require_justification": False,
    "message": "",
    "reveal": True,
}

# The same default as a decision (what ``evaluate(None, facts)`` answers).
BUILTIN_DEFAULT = Decision(
    effect=Effect(DEFAULT_OUTCOME["effect"]),
    requirements=(
        Requirement("default", DEFAULT_OUTCOME["approvals"], tuple(DEFAULT_OUTCOME["reviewers"])),
    ),
    timeout=timedelta(seconds=DEFAULT_OUTCOME["timeout"]),
    grant=grant_of([{"name": "default", **DEFAULT_OUTCOME}]),
)
