"""The pure evaluator over a table of cases, and properties that must hold for any
policy. No database: these run without Django's test database."""

from __future__ import annotations

import random
import textwrap
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.decisions import BUILTIN_DEFAULT, Effect, RequestFacts
from policies.document import parse_document
from policies.evaluator import evaluate

POLICY = parse_document(
    textwrap.dedent(
        """
        default:
          effect: require_approval
          approvals: 1
          reviewers: [reviewers]
          timeout: 1h
        rules:
          - name: reads-are-self-service
            match:
              action: ["*.read", "metrics.*"]
            effect: allow
          - name: exports-with-pii
            match:
              action: data.export
              data_classes: [EMAIL_ADDRESS, US_SSN, {entity: CREDIT_CARD, min_score: 0.8}]
            effect: require_approval
            approvals: 2
            reviewers: [privacy]
            timeout: 30m
            require_justification: true
          - name: no-prod-drops
            match: {action: schema.drop, environment: production}
            effect: deny
            message: dropping production tables is never allowed
          - name: big-exports
            match:
              action: data.export
              when: has(payload.rows) && payload.rows > 10000
            effect: require_approval
            approvals: 1
            reviewers: [data-owners]
            timeout: 2h
          - name: nested-prod-flag
            match:
              when: payload.target.cluster.tier == "gold"
            effect: require_approval
            reviewers: [sre]
          - name: model-x-blocked
            match:
              when: context.model == "x-untrusted"
            effect: deny
            message: this model may not act
          - name: trusted-bot-reads-metrics
            match: {agent: [metrics-bot], action: "metrics.*"}
            effect: allow
          - name: iam-in-prod
            match: {action: "iam.*", environment: "prod*"}
            effect: require_approval
            approvals: 2
            reviewers: [security]
          - name: iam-admin-role
            match: {action: "iam.role.grant", resource: "aws://iam/*admin*"}
            effect: require_approval
            reviewers: [security-leads]
            timeout: 15m
          - name: rotate-keys-allowed-in-staging
            match: {action: key.rotate, environment: [staging, "dev-?"]}
            effect: allow
          - name: allow-when-small
            match:
              action: cluster.scale
              when: payload.replicas <= 5
            effect: allow
          - name: sanctioned-regions
            match:
              action: data.copy
              when: payload.regions.exists(r, r.startsWith("cn-"))
            effect: deny
            message: no copies to sanctioned regions
        """
    )
)

EMAIL = {"entity": "EMAIL_ADDRESS", "score": 0.95, "path": "$.rows[0].email"}
CARD_LOW = {"entity": "CREDIT_CARD", "score": 0.5, "path": "$.card"}
CARD_HIGH = {"entity": "CREDIT_CARD", "score": 0.9, "path": "$.card"}
PERSON = {"entity": "PERSON", "score": 0.85, "path": "$.name"}


def facts(action: str, resource: str = "r://x", **kw) -> RequestFacts:
    return RequestFacts(action=action, resource=resource, **kw)


# (id, facts, findings, effect, matched rules, approvals, reviewers)
CASES = [
    ("plain read allowed", facts("db.read"), [], "allow", ["reads-are-self-service"], 0, []),
    ("glob crosses dots", facts("db.table.read"), [], "allow", ["reads-are-self-service"], 0, []),
    ("metrics prefix", facts("metrics.cpu"), [], "allow", ["reads-are-self-service"], 0, []),
    ("glob anchored at end", facts("db.read.all"), [], "require_approval", [], 1, ["reviewers"]),
    ("glob is case-sensitive", facts("DB.READ"), [], "require_approval", [], 1, ["reviewers"]),
    ("star needs the dot", facts("read"), [], "require_approval", [], 1, ["reviewers"]),
    ("prefix glob no partial", facts("metricsx.cpu"), [], "require_approval", [], 1, ["reviewers"]),
    (
        "nothing matches: default",
        facts("cluster.restart"),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    ("export without findings", facts("data.export"), [], "require_approval", [], 1, ["reviewers"]),
    (
        "export with email, justified",
        facts("data.export", justification="churn"),
        [EMAIL],
        "require_approval",
        ["exports-with-pii"],
        2,
        ["privacy"],
    ),
    (
        "export with email, unjustified",
        facts("data.export"),
        [EMAIL],
        "deny",
        ["exports-with-pii"],
        0,
        [],
    ),
    (
        "justification of spaces is none",
        facts("data.export", justification="   "),
        [EMAIL],
        "deny",
        ["exports-with-pii"],
        0,
        [],
    ),
    (
        "finding not in the rule",
        facts("data.export", justification="j"),
        [PERSON],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "card under min score",
        facts("data.export", justification="j"),
        [CARD_LOW],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "card over min score",
        facts("data.export", justification="j"),
        [CARD_HIGH],
        "require_approval",
        ["exports-with-pii"],
        2,
        ["privacy"],
    ),
    (
        "prod drop denied",
        facts("schema.drop", environment="production"),
        [],
        "deny",
        ["no-prod-drops"],
        0,
        [],
    ),
    (
        "staging drop default",
        facts("schema.drop", environment="staging"),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "environment glob is exact without star",
        facts("schema.drop", environment="production-eu"),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "big export by when",
        facts("data.export", payload={"rows": 20000}),
        [],
        "require_approval",
        ["big-exports"],
        1,
        ["data-owners"],
    ),
    (
        "small export by when",
        facts("data.export", payload={"rows": 10}),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "when guarded by has: field missing",
        facts("data.export", payload={}),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "two approval rules both apply",
        facts("data.export", payload={"rows": 50000}, justification="j"),
        [EMAIL],
        "require_approval",
        ["exports-with-pii", "big-exports"],
        2,  # the largest requirement: one approver may count toward both
        ["data-owners", "privacy"],
    ),
    (
        "nested payload when",
        facts("cluster.restart", payload={"target": {"cluster": {"tier": "gold"}}}),
        [],
        "require_approval",
        ["nested-prod-flag"],
        1,
        ["sre"],
    ),
    (
        "nested payload other tier",
        facts("cluster.restart", payload={"target": {"cluster": {"tier": "bronze"}}}),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "missing nested field: the rule does not hold",
        facts("cluster.restart", payload={"target": {}}),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "null payload: the rule does not hold",
        facts("cluster.restart", payload=None),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "a field of the wrong type fails strict (approval rule matches)",
        facts("cluster.restart", payload={"target": {"cluster": 7}}),
        [],
        "require_approval",
        ["nested-prod-flag"],
        1,
        ["sre"],
    ),
    (
        "read with deny context loses to deny",
        facts(
            "db.read",
            context={"model": "x-untrusted"},
            payload={"target": {"cluster": {"tier": "b"}}},
        ),
        [],
        "deny",
        ["reads-are-self-service", "model-x-blocked"],
        0,
        [],
    ),
    (
        "missing context field: the deny rule does not hold",
        facts("db.read", payload={"target": {"cluster": {"tier": "b"}}}),
        [],
        "allow",
        ["reads-are-self-service"],
        0,
        [],
    ),
    (
        "mistyped field in a deny rule: denied",
        facts("data.copy", payload={"regions": 5}),
        [],
        "deny",
        ["sanctioned-regions"],
        0,
        [],
    ),
    (
        "agent-specific allow",
        facts("metrics.cpu", agent="metrics-bot"),
        [],
        "allow",
        ["reads-are-self-service", "trusted-bot-reads-metrics"],
        0,
        [],
    ),
    (
        "agent rule never matches a person",
        facts("metrics.cpu", agent=None),
        [],
        "allow",
        ["reads-are-self-service"],
        0,
        [],
    ),
    (
        "iam in prod needs security",
        facts("iam.policy.attach", environment="prod-eu"),
        [],
        "require_approval",
        ["iam-in-prod"],
        2,
        ["security"],
    ),
    (
        "admin role grant in prod: both",
        facts("iam.role.grant", "aws://iam/role/superadmin-1", environment="prod"),
        [],
        "require_approval",
        ["iam-in-prod", "iam-admin-role"],
        2,  # the largest requirement: one approver may count toward both
        ["security", "security-leads"],
    ),
    (
        "admin role grant outside prod",
        facts("iam.role.grant", "aws://iam/role/admin", environment="dev"),
        [],
        "require_approval",
        ["iam-admin-role"],
        1,
        ["security-leads"],
    ),
    (
        "resource glob misses",
        facts("iam.role.grant", "aws://iam/role/reader", environment="dev"),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "list of environments",
        facts("key.rotate", environment="staging"),
        [],
        "allow",
        ["rotate-keys-allowed-in-staging"],
        0,
        [],
    ),
    (
        "question-mark glob",
        facts("key.rotate", environment="dev-1"),
        [],
        "allow",
        ["rotate-keys-allowed-in-staging"],
        0,
        [],
    ),
    (
        "question mark is one character",
        facts("key.rotate", environment="dev-12"),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "allow when small",
        facts("cluster.scale", payload={"replicas": 3}),
        [],
        "allow",
        ["allow-when-small"],
        0,
        [],
    ),
    (
        "when false: no allow",
        facts("cluster.scale", payload={"replicas": 30}),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "allow rule with missing field does not allow",
        facts("cluster.scale", payload={}),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "allow rule with mistyped field does not allow",
        facts("cluster.scale", payload={"replicas": "three"}),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "comprehension over a list",
        facts("data.copy", payload={"regions": ["eu-west-1", "cn-north-1"]}),
        [],
        "deny",
        ["sanctioned-regions"],
        0,
        [],
    ),
    (
        "comprehension finds nothing",
        facts("data.copy", payload={"regions": ["eu-west-1"]}),
        [],
        "require_approval",
        [],
        1,
        ["reviewers"],
    ),
    (
        "unicode in the resource",
        facts("db.read", "postgres://données/ünïcode"),
        [],
        "allow",
        ["reads-are-self-service"],
        0,
        [],
    ),
]


@pytest.mark.parametrize(
    ("facts_", "findings", "effect", "rules", "approvals", "reviewers"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_table(facts_, findings, effect, rules, approvals, reviewers):
    decision = evaluate(POLICY, facts_, findings, version=7)
    assert decision.effect == effect, decision
    assert sorted(decision.rules) == sorted(rules)
    assert decision.approvals == approvals
    assert list(decision.reviewers) == sorted(reviewers)
    assert decision.version == 7


def test_the_table_is_large_enough():
    assert len(CASES) >= 40


def test_the_timeout_is_the_shortest_of_the_matched_requirements():
    decision = evaluate(
        POLICY,
        facts("data.export", payload={"rows": 50000}, justification="j"),
        [EMAIL],
    )
    assert decision.timeout == timedelta(minutes=30)


def test_a_deny_carries_its_message():
    decision = evaluate(POLICY, facts("schema.drop", environment="production"))
    assert decision.message == "dropping production tables is never allowed"


def test_a_rule_that_errs_is_reported():
    decision = evaluate(POLICY, facts("cluster.scale", payload={"replicas": "three"}))
    # Only the type error is an error; the two missing fields simply do not hold.
    assert [rule for rule, _ in decision.errors] == ["allow-when-small"]


def test_data_classes_make_the_decision_depend_on_findings():
    assert evaluate(POLICY, facts("data.export"), []).depends_on_findings
    assert not evaluate(
        POLICY, facts("schema.drop", environment="production"), []
    ).depends_on_findings


def test_without_a_policy_the_builtin_default_applies():
    assert evaluate(None, facts("anything")) == BUILTIN_DEFAULT


def test_a_policy_without_rules_uses_its_default():
    policy = parse_document("default: {effect: allow}\n")
    assert evaluate(policy, facts("anything")).effect == Effect.ALLOW


def test_requirements_stay_separate():
    decision = evaluate(POLICY, facts("iam.role.grant", "aws://iam/admin", environment="prod"), [])
    assert [(r.rule, r.approvals, r.reviewers) for r in decision.requirements] == [
        ("iam-in-prod", 2, ("security",)),
        ("iam-admin-role", 1, ("security-leads",)),
    ]


# --- properties -----------------------------------------------------------------------

ACTIONS = ["data.export", "data.read", "iam.grant", "key.rotate", "schema.drop"]
PATTERNS = ["*", "data.*", "*.read", "iam.*", "key.rotate", "schema.drop", "*.export"]
ENVIRONMENTS = ["production", "staging", ""]
ENTITIES = ["EMAIL_ADDRESS", "US_SSN", "PERSON"]

rule_strategy = st.fixed_dictionaries(
    {
        "action": st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2),
        "environment": st.none() | st.sampled_from(["production", "staging", "*"]),
        "data_classes": st.none() | st.lists(st.sampled_from(ENTITIES), min_size=1, max_size=2),
        "when": st.none() | st.sampled_from(["payload.n > 5", "has(payload.n) && payload.n < 3"]),
        "effect": st.sampled_from(["allow", "require_approval", "deny"]),
        "approvals": st.integers(1, 3),
    }
)


def to_yaml(rules: list[dict], default: str) -> str:
    lines = [f"default: {{effect: {default}}}", "rules:" if rules else "rules: []"]
    for index, rule in enumerate(rules):
        lines.append(f"  - name: r{index}")
        lines.append("    match:")
        lines.append(f"      action: {rule['action']!r}")
        if rule["environment"]:
            lines.append(f"      environment: {rule['environment']!r}")
        if rule["data_classes"]:
            lines.append(f"      data_classes: {rule['data_classes']!r}")
        if rule["when"]:
            lines.append(f"      when: {rule['when']!r}")
        lines.append(f"    effect: {rule['effect']}")
        if rule["effect"] == "require_approval":
            lines.append(f"    approvals: {rule['approvals']}")
    return "\n".join(lines) + "\n"


facts_strategy = st.builds(
    RequestFacts,
    action=st.sampled_from(ACTIONS),
    resource=st.just("r://x"),
    environment=st.sampled_from(ENVIRONMENTS),
    payload=st.none()
    | st.fixed_dictionaries({}, optional={"n": st.integers(0, 10) | st.text(max_size=2)}),
    justification=st.sampled_from(["", "why"]),
)
findings_strategy = st.lists(
    st.builds(lambda e: {"entity": e, "score": 0.9, "path": "$"}, st.sampled_from(ENTITIES)),
    max_size=2,
)
default_strategy = st.sampled_from(["allow", "require_approval", "deny"])
fast = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(
    st.lists(rule_strategy, max_size=6),
    rule_strategy,
    facts_strategy,
    findings_strategy,
    default_strategy,
)
def test_adding_a_deny_rule_never_loosens_a_decision(
    rules, extra, request_facts, findings, default
):
    before = evaluate(parse_document(to_yaml(rules, default)), request_facts, findings)
    after = evaluate(
        parse_document(to_yaml([*rules, {**extra, "effect": "deny"}], default)),
        request_facts,
        findings,
    )
    if before.effect == Effect.DENY:
        assert after.effect == Effect.DENY
    assert after.effect.strictness >= before.effect.strictness


@fast
@given(
    st.lists(rule_strategy, min_size=1, max_size=6),
    facts_strategy,
    findings_strategy,
    default_strategy,
    st.randoms(),
)
def test_rule_order_never_changes_a_decision(
    rules, request_facts, findings, default, rnd: random.Random
):
    shuffled = list(rules)
    rnd.shuffle(shuffled)
    first = evaluate(parse_document(to_yaml(rules, default)), request_facts, findings)
    second = evaluate(parse_document(to_yaml(shuffled, default)), request_facts, findings)
    assert first.effect == second.effect
    assert first.approvals == second.approvals
    assert first.reviewers == second.reviewers
