"""Replay a draft policy against stored requests: how many decisions would change,
in which direction, with examples. It lives with the requests it reads; the
evaluator it replays them through is policies' pure function."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from airlock.errors import InvalidInput
from approvals import selectors as approvals
from approvals.services.facts import facts_of
from policies.decisions import Effect
from policies.evaluator import evaluate

EXAMPLES_PER_DIRECTION = 5


@dataclass
class BacktestReport:
    days: int
    requests: int = 0
    changed: int = 0
    stricter: int = 0
    looser: int = 0
    # Same effect, but different approval requirements (count, groups).
    requirements_changed: int = 0
    directions: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "requests": self.requests,
            "changed": self.changed,
            "stricter": self.stricter,
            "looser": self.looser,
            "requirements_changed": self.requirements_changed,
            "directions": dict(self.directions),
            "examples": self.examples,
            "truncated": self.truncated,
        }


def _requirement_key(requirements: list[dict[str, Any]]) -> list[tuple[int, tuple[str, ...]]]:
    return sorted((r["approvals"], tuple(sorted(r["reviewers"]))) for r in requirements)


def backtest(parsed: dict[str, Any], *, days: int) -> BacktestReport:
    max_days = settings.AIRLOCK["BACKTEST_MAX_DAYS"]
    if not 1 <= days <= max_days:
        raise InvalidInput(details={"days": [f"between 1 and {max_days}"]})
    limit = settings.AIRLOCK["BACKTEST_MAX_REQUESTS"]
    report = BacktestReport(days=days)
    since = timezone.now() - timedelta(days=days)
    for action in approvals.decided_history(since, limit + 1):
        if report.requests == limit:
            report.truncated = True
            break
        report.requests += 1
        new = evaluate(parsed, facts_of(action, payload=action.payload), action.findings or [])
        old_effect = Effect(action.policy_effect)
        new_requirements = [r.as_dict() for r in new.requirements]
        if new.effect == old_effect:
            if new.effect == Effect.REQUIRE_APPROVAL and _requirement_key(
                new_requirements
            ) != _requirement_key(action.requirements or []):
                report.requirements_changed += 1
            continue
        direction = f"{old_effect.value}->{new.effect.value}"
        report.changed += 1
        report.directions[direction] += 1
        if new.effect.strictness > old_effect.strictness:
            report.stricter += 1
        else:
            report.looser += 1
        examples = report.examples.setdefault(direction, [])
        if len(examples) < EXAMPLES_PER_DIRECTION:
            examples.append(
                {
                    "id": str(action.pk),
                    "action": action.action,
                    "resource": action.resource,
                    "created_at": action.created_at.isoformat(),
                    "was": {
                        "effect": old_effect.value,
                        "rules": action.policy_rules,
                        "version": action.policy_version,
                    },
                    "would_be": {
                        "effect": new.effect.value,
                        "rules": list(new.rules),
                        "requirements": new_requirements,
                        "message": new.message,
                    },
                }
            )
    return report
