"""Grant settings in policy documents: checked where they are written, combined by
the evaluator from the rules that decide."""

from __future__ import annotations

import pytest

from policies.decisions import RequestFacts
from policies.document import PolicyDocumentError, parse_document
from policies.evaluator import evaluate


def _problems(text: str) -> list[str]:
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document(text)
    return [f"{p.key}: {p.reason}" for p in caught.value.problems]


RULE = "rules:\n  - name: r\n    match: {action: x}\n    effect: require_approval\n"


def test_a_grant_lives_at_most_fifteen_minutes():
    assert parse_document(RULE + "    grant_ttl: 15m\n")["rules"][0]["grant_ttl"] == 900
    assert _problems(RULE + "    grant_ttl: 16m\n") == [
        "rules[0].grant_ttl: at most 15m: a grant is short-lived"
    ]


def test_broker_options_are_checked_per_broker():
    assert _problems(RULE + "    grant: {broker: vault}\n") == [
        "rules[0].grant.broker: one of aws_sts, postgres_role"
    ]
    assert _problems(RULE + "    grant: {broker: postgres_role, privileges: [DROP]}\n")
    assert _problems(RULE + "    grant: {broker: postgres_role, role_arn: x}\n")[0].startswith(
        "rules[0].grant.role_arn: unknown key"
    )
    parsed = parse_document(
        RULE + "    grant: {audience: exec, broker: postgres_role, privileges: [select]}\n"
    )
    assert parsed["rules"][0]["grant"] == {
        "audience": "exec",
        "broker": "postgres_role",
        "privileges": ["SELECT"],
    }


def test_a_deny_issues_no_grant():
    deny = "rules:\n  - name: r\n    match: {action: x}\n    effect: deny\n"
    assert _problems(deny + "    grant_ttl: 5m\n") == ["rules[0].grant_ttl: a deny issues no grant"]


def test_the_shortest_ttl_of_the_deciding_rules_wins():
    policy = parse_document(
        "rules:\n"
        "  - {name: a, match: {action: x}, effect: require_approval, grant_ttl: 10m}\n"
        "  - {name: b, match: {action: x}, effect: require_approval, grant_ttl: 2m,"
        " grant: {audience: exec}}\n"
    )
    decision = evaluate(policy, RequestFacts(action="x", resource="r"))
    assert decision.grant == {"ttl": 120, "audience": "exec", "broker": None}
    denied = evaluate(policy, RequestFacts(action="y", resource="r"))
    assert denied.effect == "require_approval"  # the built-in default
    assert denied.grant == {"ttl": 300, "audience": "airlock", "broker": None}
