"""A bad document is refused with the line, the key and the reason."""

from __future__ import annotations

import pytest

from policies.document import PolicyDocumentError, parse_document, parse_duration


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PolicyDocumentError) as info:
        parse_document(text)
    return [(p.line, p.key, p.reason) for p in info.value.problems]


@pytest.mark.parametrize(
    ("text", "line", "key", "reason_part"),
    [
        (
            "rules:\n  - name: a\n    effect: allow\n    match: {acton: x}\n",
            4,
            "rules[0].match.acton",
            "unknown key",
        ),
        ("rules:\n  - name: a\n    effect: block\n", 3, "rules[0].effect", "must be one of"),
        ("rules:\n  - name: Bad Name\n    effect: allow\n", 2, "rules[0].name", "lower-case"),
        ("rules:\n  - effect: allow\n", 2, "rules[0].name", "required"),
        (
            "rules:\n  - {name: a, effect: allow}\n  - {name: a, effect: deny}\n",
            3,
            "rules[1].name",
            "duplicate",
        ),
        (
            "rules:\n  - name: a\n    effect: require_approval\n    timeout: 5 minutes\n",
            4,
            "rules[0].timeout",
            "duration",
        ),
        (
            "rules:\n  - name: a\n    effect: require_approval\n    timeout: 45d\n",
            4,
            "rules[0].timeout",
            "between 1m and 30d",
        ),
        (
            "rules:\n  - name: a\n    effect: require_approval\n    approvals: 0\n",
            4,
            "rules[0].approvals",
            "1 to 10",
        ),
        (
            "rules:\n  - name: a\n    effect: deny\n    reviewers: [x]\n",
            4,
            "rules[0].reviewers",
            "only meaningful",
        ),
        (
            "rules:\n  - name: a\n    effect: deny\n    match:\n      when: 'payload.rows >'\n",
            5,
            "rules[0].match.when",
            "Syntax error",
        ),
        (
            "rules:\n  - name: a\n    effect: deny\n    match:\n      data_classes: [email]\n",
            5,
            "rules[0].match.data_classes[0]",
            "entity type",
        ),
        (
            "rules:\n  - name: a\n    effect: deny\n    match:\n"
            "      data_classes: [{entity: US_SSN, min_score: 2}]\n",
            5,
            "rules[0].match.data_classes[0].min_score",
            "between 0 and 1",
        ),
        (
            "rules:\n  - name: a\n    effect: deny\n    match: {action: []}\n",
            4,
            "rules[0].match.action",
            "at least one",
        ),
        ("default: {effect: allow}\nextra: 1\n", 2, "extra", "unknown key"),
        ("rules: {name: a}\n", 1, "rules", "list of rules"),
        ("rules:\n  - name: a\n    effect: [allow\n", 4, "", "not valid YAML"),
        ("- just\n- a list\n", 1, "", "must be a mapping"),
        (
            "rules:\n  - name: a\n    effect: deny\n    message: no\n",
            4,
            "rules[0].message",
            "string",
        ),
    ],
)
def test_a_bad_document_names_line_key_and_reason(text, line, key, reason_part):
    found = problems(text)
    assert any(
        p_line == line and p_key == key and reason_part in reason for p_line, p_key, reason in found
    ), found


def test_anchors_and_aliases_are_refused():
    text = "default: &d {effect: allow}\nrules:\n  - name: a\n    effect: deny\n    match: *d\n"
    assert problems(text)[0][2] == "YAML anchors and aliases are not allowed"


def test_empty_and_oversized_documents_are_refused():
    assert problems("")[0][2] == "the document is empty"
    assert "larger than" in problems("#" * (256 * 1024 + 1))[0][2]


def test_every_problem_is_reported_at_once():
    text = "rules:\n  - name: a\n    effect: nope\n  - name: B\n    effect: allow\n"
    assert len(problems(text)) == 2


def test_a_rule_inherits_approval_settings_from_the_default():
    parsed = parse_document(
        "default: {effect: require_approval, approvals: 2, reviewers: [ops], timeout: 2h}\n"
        "rules:\n  - {name: a, effect: require_approval}\n"
    )
    assert parsed["rules"][0] | {} == {
        "name": "a",
        "match": {},
        "effect": "require_approval",
        "approvals": 2,
        "reviewers": ["ops"],
        "timeout": 7200,
        "require_justification": False,
        "message": "",
        "reveal": True,
    }


def test_an_allow_default_leaves_rules_the_builtin_approval_settings():
    parsed = parse_document(
        "default: {effect: allow}\nrules:\n  - {name: a, effect: require_approval}\n"
    )
    assert (parsed["rules"][0]["approvals"], parsed["rules"][0]["reviewers"]) == (1, ["reviewers"])


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h30m", 5400), ("2d", 172800)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds
