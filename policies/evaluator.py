"""The pure evaluator: (policy, request facts, findings) -> Decision.

No database, no Django. Combination (API.md): every rule whose ``match`` holds
applies and the strictest effect wins (deny > require_approval > allow), so rule
order never changes a decision. Each matched ``require_approval`` becomes its own
requirement, and every one must be met. The ``default`` applies when no rule
matches.

A ``when`` that reads a field the request lacks does not hold (as an undefined
value in other policy languages): write ``!has(payload.rows) || …`` to make absence
count. A ``when`` that fails otherwise (a string compared with a number) counts
toward the stricter outcome: it matches a deny or require_approval rule and does
not match an allow rule, so mistyping a field can never loosen a decision. Such
failures are reported in ``Decision.errors``.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from policies import expressions
from policies.decisions import (
    DEFAULT_OUTCOME,
    Decision,
    Effect,
    RequestFacts,
    Requirement,
    grant_of,
)


@functools.lru_cache(maxsize=8192)
def _globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a list of globs. fnmatch semantics: ``*`` any run of characters
    (dots and slashes too), ``?`` one, ``[abc]`` a class; case-sensitive."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def glob_match(patterns: Sequence[str], value: str | None) -> bool:
    if value is None:
        return False
    return _globs(tuple(patterns)).match(value) is not None


_STATIC_KEYS = ("action", "resource", "environment", "agent")


@dataclass(frozen=True)
class _Rule:
    """A rule with its globs compiled, built once per stored policy."""

    source: dict[str, Any]
    globs: tuple[tuple[str, re.Pattern[str]], ...]

    def static_match(self, facts: RequestFacts) -> bool:
        """The keys that need neither findings nor an expression."""
        for key, regex in self.globs:
            value = getattr(facts, key)
            if value is None or regex.match(value) is None:
                return False
        return True


# Policies are immutable once stored; the services keep one parsed dict per version,
# so compiling per object identity compiles each version once per process.
_compiled: dict[int, tuple[dict[str, Any], tuple[_Rule, ...]]] = {}


def _compile(policy: dict[str, Any]) -> tuple[_Rule, ...]:
    entry = _compiled.get(id(policy))
    if entry is not None and entry[0] is policy:
        return entry[1]
    rules = tuple(
        _Rule(
            rule,
            tuple(
                (key, _globs(tuple(rule["match"][key])))
                for key in _STATIC_KEYS
                if key in rule["match"]
            ),
        )
        for rule in policy.get("rules", [])
    )
    if len(_compiled) > 64:
        _compiled.clear()
    _compiled[id(policy)] = (policy, rules)
    return rules


@dataclass
class _Context:
    facts: RequestFacts
    findings: Sequence[dict[str, Any]]
    variables: dict[str, Any] | None = None

    def cel_variables(self) -> dict[str, Any]:
        if self.variables is None:
            self.variables = expressions.activation(self.facts.as_variables())
        return self.variables


def _data_classes_match(wanted: list[dict[str, Any]], findings: Sequence[dict[str, Any]]) -> bool:
    return any(
        finding.get("entity") == want["entity"]
        and float(finding.get("score", 0)) >= want["min_score"]
        for want in wanted
        for finding in findings
    )


def _requirement(name: str, outcome: dict[str, Any]) -> Requirement:
    return Requirement(name, outcome["approvals"], tuple(outcome["reviewers"]))


def evaluate(
    policy: dict[str, Any] | None,
    facts: RequestFacts,
    findings: Sequence[dict[str, Any]] = (),
    *,
    version: int | None = None,
) -> Decision:
    """Decide one request. ``policy`` is a parsed document (``document.parse_document``);
    ``None`` means no policy is stored, and API.md's built-in default applies."""
    context = _Context(facts, findings)
    matched: list[dict[str, Any]] = []
    errors: list[tuple[str, str]] = []
    depends_on_findings = False
    could_review: set[str] = set()
    for compiled in _compile(policy) if policy else ():
        if not compiled.static_match(facts):
            continue
        rule, match = compiled.source, compiled.source["match"]
        if "data_classes" in match:
            depends_on_findings = True
            if not _data_classes_match(match["data_classes"], findings):
                if rule["effect"] == Effect.REQUIRE_APPROVAL:
                    # Screening could still find what this rule looks for.
                    could_review.update(rule["reviewers"])
                continue
        if "when" in match:
            try:
                holds = expressions.evaluate(match["when"], context.cel_variables())
            except expressions.ExpressionError as exc:
                if exc.missing:
                    holds = False
                else:
                    errors.append((rule["name"], str(exc)))
                    holds = rule["effect"] != Effect.ALLOW
            if not holds:
                continue
        matched.append(rule)

    default = (policy or {}).get("default", DEFAULT_OUTCOME)
    deciding = matched or [{"name": "default", **default}]
    effect = max((Effect(r["effect"]) for r in deciding), key=lambda e: e.strictness)
    justification_rules = [r["name"] for r in deciding if r.get("require_justification")]
    base = Decision(
        effect=effect,
        rules=tuple(r["name"] for r in matched),
        version=version,
        depends_on_findings=depends_on_findings,
        errors=tuple(errors),
        require_justification=bool(justification_rules),
        reveal=default.get("reveal", True) and all(r.get("reveal", True) for r in matched),
        could_review=tuple(sorted(could_review)),
    )
    if effect == Effect.DENY:
        messages = [r["message"] for r in deciding if r["effect"] == Effect.DENY and r["message"]]
        return replace(base, message="; ".join(messages) or "denied by policy")
    if justification_rules and not facts.justification.strip():
        return replace(
            base,
            effect=Effect.DENY,
            message=f"a justification is required by {', '.join(justification_rules)}",
        )
    base = replace(base, grant=grant_of(deciding))
    if effect == Effect.ALLOW:
        return base
    approving = [r for r in deciding if r["effect"] == Effect.REQUIRE_APPROVAL]
    return replace(
        base,
        requirements=tuple(_requirement(r["name"], r) for r in approving),
        timeout=timedelta(seconds=min(r["timeout"] for r in approving)),
        message="; ".join(r["message"] for r in approving if r["message"]),
    )
