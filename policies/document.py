"""Policy documents: YAML in, a checked and normalised dict out.

Every problem is reported with the line, the key (a path such as
``rules[2].match.action``) and the reason, so an author can fix a document
without guessing. Unknown keys are errors: a typo must not silently widen a rule.
No database, no Django: the evaluator and the command-line tools share this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from policies.decisions import DEFAULT_OUTCOME

EFFECTS = ("allow", "require_approval", "deny")
MAX_DOCUMENT_BYTES = 256 * 1024
MAX_RULES = 1000
# A real policy nests about six deep; PyYAML's composer recurses once per level, so a
# document nested thousands deep would end in a RecursionError after many seconds.
MAX_NESTING = 32
MAX_WHEN_LENGTH = 2000
MAX_TIMEOUT_SECONDS = 30 * 24 * 3600
MIN_TIMEOUT_SECONDS = 60
# A grant is short-lived: 5 minutes unless a rule says otherwise, never more than 15.
DEFAULT_GRANT_TTL_SECONDS = 300
MAX_GRANT_TTL_SECONDS = 15 * 60
AUDIENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,199}$")
# The credential brokers a rule may name, with the options each takes (the broker
# itself lives in approvals; policies only check the document's shape).
POSTGRES_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
BROKERS = {"postgres_role": {"privileges"}, "aws_sts": {"role_arn", "actions"}}
AWS_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
AWS_ACTION_RE = re.compile(r"^[a-z0-9-]{1,64}:[A-Za-z0-9*]{1,128}$")
RULE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
GROUP_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,149}$")
ENTITY_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_DURATION_PART = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Problem:
    line: int | None
    key: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "key": self.key, "reason": self.reason}

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.key or '(document)'}: {self.reason}"


class PolicyDocumentError(ValueError):
    """A document that cannot be a policy; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def parse_duration(value: Any) -> int:
    """``90s``, ``30m``, ``1h``, ``2d``, ``1h30m`` -> seconds."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("a duration such as 30m, 1h or 2d")
    if isinstance(value, int):
        seconds = value
    else:
        text = value.strip().lower()
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"{value!r} is not a duration such as 30m, 1h or 2d")
        seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    if not MIN_TIMEOUT_SECONDS <= seconds <= MAX_TIMEOUT_SECONDS:
        raise ValueError("must be between 1m and 30d")
    return seconds


# --- locating keys in the YAML source ----------------------------------------------


def _line_of(node: yaml.Node | None, path: list[str | int]) -> int | None:
    """The line of the deepest node along ``path`` that exists (1-based)."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            match = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
            key_node = next((k for k, _ in node.value if getattr(k, "value", None) == step), None)
            if match is None:
                return line
            line = (key_node or match).start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return line
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _dotted(path: list[str | int]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


class _Checker:
    def __init__(self, root: yaml.Node | None):
        self.root = root
        self.problems: list[Problem] = []

    def fail(self, path: list[str | int], reason: str) -> None:
        self.problems.append(Problem(_line_of(self.root, path), _dotted(path), reason))

    # --- field checkers: each returns the normalised value or None after fail() ---

    def mapping(self, value: Any, path: list[str | int], allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping")
            return {}
        for key in value:
            if not isinstance(key, str):
                self.fail(path, f"keys must be strings, not {key!r}")
            elif key not in allowed:
                self.fail([*path, key], f"unknown key (allowed: {', '.join(sorted(allowed))})")
        return value

    def patterns(self, value: Any, path: list[str | int]) -> list[str] | None:
        items = value if isinstance(value, list) else [value]
        if not items:
            self.fail(path, "must name at least one pattern")
            return None
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item:
                self.fail(
                    [*path, index] if isinstance(value, list) else path, "must be a glob string"
                )
                return None
        return list(items)

    def groups(self, value: Any, path: list[str | int]) -> list[str] | None:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(g, str) and GROUP_RE.match(g) for g in items):
            self.fail(path, "must be a list of group names")
            return None
        return sorted(set(items))

    def data_classes(self, value: Any, path: list[str | int]) -> list[dict[str, Any]] | None:
        items = value if isinstance(value, list) else [value]
        out = []
        for index, item in enumerate(items):
            where = [*path, index]
            if isinstance(item, str) and ENTITY_RE.match(item):
                out.append({"entity": item, "min_score": 0.0})
            elif isinstance(item, dict):
                self.mapping(item, where, {"entity", "min_score"})
                entity, score = item.get("entity"), item.get("min_score", 0.0)
                if not isinstance(entity, str) or not ENTITY_RE.match(entity):
                    self.fail([*where, "entity"], "an entity type such as EMAIL_ADDRESS")
                    return None
                if (
                    isinstance(score, bool)
                    or not isinstance(score, (int, float))
                    or not 0 <= score <= 1
                ):
                    self.fail([*where, "min_score"], "a number between 0 and 1")
                    return None
                out.append({"entity": entity, "min_score": float(score)})
            else:
                self.fail(where, "an entity type such as EMAIL_ADDRESS, or {entity, min_score}")
                return None
        if not out:
            self.fail(path, "must name at least one entity type")
            return None
        return out

    def when(self, value: Any, path: list[str | int]) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "must be an expression string")
            return None
        if len(value) > MAX_WHEN_LENGTH:
            self.fail(path, f"longer than {MAX_WHEN_LENGTH} characters")
            return None
        from policies.expressions import ExpressionError, compile_expression

        try:
            compile_expression(value)
        except ExpressionError as exc:
            self.fail(path, f"not a valid expression: {exc}")
            return None
        return value

    def outcome(
        self, raw: dict[str, Any], path: list[str | int], *, inherit: dict[str, Any]
    ) -> dict[str, Any]:
        """effect, approvals, reviewers, timeout, require_justification, message, reveal."""
        effect = raw.get("effect")
        if effect not in EFFECTS:
            self.fail([*path, "effect"], f"must be one of {', '.join(EFFECTS)}")
            effect = "deny"
        approvals = raw.get(
            "approvals", inherit["approvals"] if effect == "require_approval" else 1
        )
        if (
            isinstance(approvals, bool)
            or not isinstance(approvals, int)
            or not 1 <= approvals <= 10
        ):
            self.fail([*path, "approvals"], "a whole number from 1 to 10")
            approvals = 1
        reviewers = inherit["reviewers"]
        if "reviewers" in raw:
            reviewers = self.groups(raw["reviewers"], [*path, "reviewers"]) or reviewers
        timeout = inherit["timeout"]
        if "timeout" in raw:
            try:
                timeout = parse_duration(raw["timeout"])
            except ValueError as exc:
                self.fail([*path, "timeout"], str(exc))
        justification = raw.get("require_justification", False)
        if not isinstance(justification, bool):
            self.fail([*path, "require_justification"], "true or false")
            justification = False
        reveal = raw.get("reveal", True)
        if not isinstance(reveal, bool):
            self.fail([*path, "reveal"], "true or false")
            reveal = False
        message = raw.get("message", "")
        if not isinstance(message, str) or len(message) > 500:
            self.fail([*path, "message"], "a string of at most 500 characters")
            message = ""
        grant = self.grant(raw, path) if effect != "deny" else {}
        for key in ("grant", "grant_ttl"):
            if effect == "deny" and key in raw:
                self.fail([*path, key], "a deny issues no grant")
        timers = self.timers(raw, path)
        if effect != "require_approval":
            for key in ("approvals", "reviewers", "timeout", "remind_after", "escalate_after"):
                if key in raw:
                    self.fail(
                        [*path, key], f"only meaningful with effect require_approval, not {effect}"
                    )
        return {
            "effect": effect,
            "approvals": approvals if effect == "require_approval" else 0,
            "reviewers": reviewers if effect == "require_approval" else [],
            "timeout": timeout if effect == "require_approval" else None,
            "require_justification": justification,
            "message": message,
            "reveal": reveal,
            **grant,
            **(timers if effect == "require_approval" else {}),
        }

    def grant(self, raw: dict[str, Any], path: list[str | int]) -> dict[str, Any]:
        """``grant_ttl`` and ``grant: {audience, broker, <broker options>}``, only the
        keys the author wrote (a rule without them inherits nothing here: the
        evaluator combines the deciding rules' grant settings)."""
        out: dict[str, Any] = {}
        if "grant_ttl" in raw:
            try:
                ttl = parse_duration(raw["grant_ttl"])
            except ValueError as exc:
                self.fail([*path, "grant_ttl"], str(exc))
            else:
                if ttl > MAX_GRANT_TTL_SECONDS:
                    self.fail([*path, "grant_ttl"], "at most 15m: a grant is short-lived")
                else:
                    out["grant_ttl"] = ttl
        if "grant" not in raw:
            return out
        where = [*path, "grant"]
        broker = raw["grant"].get("broker") if isinstance(raw["grant"], dict) else None
        options = BROKERS.get(broker, set()) if isinstance(broker, str) else set()
        spec = self.mapping(raw["grant"], where, {"audience", "broker"} | options)
        grant: dict[str, Any] = {}
        if "audience" in spec:
            if isinstance(spec["audience"], str) and AUDIENCE_RE.match(spec["audience"]):
                grant["audience"] = spec["audience"]
            else:
                self.fail([*where, "audience"], "an executor's name (an agent name or a URI)")
        if broker is not None:
            if broker not in BROKERS:
                self.fail([*where, "broker"], f"one of {', '.join(sorted(BROKERS))}")
            else:
                grant["broker"] = broker
                grant.update(self.broker_options(broker, spec, where))
        out["grant"] = grant
        return out

    def broker_options(
        self, broker: str, spec: dict[str, Any], where: list[str | int]
    ) -> dict[str, Any]:
        if broker == "postgres_role":
            privileges = spec.get("privileges")
            if (
                not isinstance(privileges, list)
                or not privileges
                or not all(
                    isinstance(p, str) and p.upper() in POSTGRES_PRIVILEGES for p in privileges
                )
            ):
                self.fail(
                    [*where, "privileges"],
                    f"required: a list of {', '.join(POSTGRES_PRIVILEGES)}",
                )
                return {}
            return {"privileges": sorted({p.upper() for p in privileges})}
        role_arn, actions = spec.get("role_arn"), spec.get("actions")
        out: dict[str, Any] = {}
        if not isinstance(role_arn, str) or not AWS_ROLE_ARN_RE.match(role_arn):
            self.fail([*where, "role_arn"], "required: an IAM role ARN")
        else:
            out["role_arn"] = role_arn
        if (
            not isinstance(actions, list)
            or not actions
            or not all(isinstance(a, str) and AWS_ACTION_RE.match(a) for a in actions)
        ):
            self.fail([*where, "actions"], "required: a list of IAM actions such as s3:GetObject")
        else:
            out["actions"] = sorted(set(actions))
        return out

    def timers(self, raw: dict[str, Any], path: list[str | int]) -> dict[str, Any]:
        """``remind_after: 30m`` and ``escalate_after: {after: 1h, to: [oncall]}``:
        notifications only, never a decision. Present in the output only when given."""
        out: dict[str, Any] = {}
        if "remind_after" in raw:
            try:
                out["remind_after"] = parse_duration(raw["remind_after"])
            except ValueError as exc:
                self.fail([*path, "remind_after"], str(exc))
        if "escalate_after" in raw:
            where = [*path, "escalate_after"]
            value = self.mapping(raw["escalate_after"], where, {"after", "to"})
            if value:
                try:
                    after = parse_duration(value.get("after"))
                except ValueError as exc:
                    self.fail([*where, "after"], str(exc))
                    after = None
                to = self.groups(value.get("to"), [*where, "to"]) if "to" in value else None
                if "to" not in value:
                    self.fail([*where, "to"], "required: the groups to notify")
                if after is not None and to:
                    out["escalate_after"] = {"after": after, "to": to}
        return out


OUTCOME_KEYS = {
    "effect",
    "approvals",
    "reviewers",
    "timeout",
    "require_justification",
    "message",
    # false: nobody may reveal the original payload of a request this rule matches
    # (on `default`: of any request).
    "reveal",
    # The grant an approval issues: its lifetime (default 5m, at most 15m), and
    # `grant: {audience, broker, ...}`: the executor it is for and the credential
    # broker that mints a temporary credential when it is redeemed.
    "grant_ttl",
    "grant",
    # Notifications only (a request is never approved because time passed).
    "remind_after",
    "escalate_after",
}
MATCH_KEYS = {"action", "resource", "environment", "agent", "data_classes", "when"}


def parse_document(text: str) -> dict[str, Any]:
    """The normalised policy of a YAML document, or ``PolicyDocumentError``."""
    if not isinstance(text, str) or not text.strip():
        raise PolicyDocumentError([Problem(None, "", "the document is empty")])
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise PolicyDocumentError([Problem(None, "", f"larger than {MAX_DOCUMENT_BYTES} bytes")])
    try:
        # Aliases would let a small document expand enormously when stored as JSON.
        # The event stream is read without recursion, so depth is checked here first.
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else None
                raise PolicyDocumentError(
                    [Problem(line, "", "YAML anchors and aliases are not allowed")]
                )
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_NESTING:
                    line = event.start_mark.line + 1 if event.start_mark else None
                    raise PolicyDocumentError(
                        [Problem(line, "", f"nested more than {MAX_NESTING} levels deep")]
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise PolicyDocumentError([Problem(line, "", f"not valid YAML: {reason}")]) from exc

    check = _Checker(root)
    top = check.mapping(data, [], {"default", "rules"})
    default = dict(DEFAULT_OUTCOME)
    if "default" in top:
        raw_default = check.mapping(top["default"], ["default"], OUTCOME_KEYS)
        if raw_default:
            default = check.outcome(raw_default, ["default"], inherit=DEFAULT_OUTCOME)
    # A require_approval rule without its own approvals, reviewers or timeout takes
    # them from the default, or from the built-in default when that one is not an approval.
    base = default if default["effect"] == "require_approval" else DEFAULT_OUTCOME
    raw_rules = top.get("rules", [])
    rules: list[dict[str, Any]] = []
    if not isinstance(raw_rules, list):
        check.fail(["rules"], "must be a list of rules")
        raw_rules = []
    if len(raw_rules) > MAX_RULES:
        check.fail(["rules"], f"at most {MAX_RULES} rules")
        raw_rules = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        path: list[str | int] = ["rules", index]
        rule = check.mapping(raw, path, {"name", "match"} | OUTCOME_KEYS)
        if not rule:
            continue
        name = rule.get("name")
        if not isinstance(name, str) or not RULE_NAME_RE.match(name):
            check.fail([*path, "name"], "required: lower-case letters, digits, . _ - (at most 100)")
            name = f"rule-{index}"
        elif name in seen:
            check.fail([*path, "name"], f"duplicate rule name {name!r}")
        seen.add(name)
        match = check.mapping(rule.get("match", {}), [*path, "match"], MATCH_KEYS)
        normalised: dict[str, Any] = {}
        for key in ("action", "resource", "environment", "agent"):
            if key in match:
                value = check.patterns(match[key], [*path, "match", key])
                if value is not None:
                    normalised[key] = value
        if "data_classes" in match:
            classes = check.data_classes(match["data_classes"], [*path, "match", "data_classes"])
            if classes is not None:
                normalised["data_classes"] = classes
        if "when" in match:
            expression = check.when(match["when"], [*path, "match", "when"])
            if expression is not None:
                normalised["when"] = expression
        rules.append({"name": name, "match": normalised, **check.outcome(rule, path, inherit=base)})

    if check.problems:
        raise PolicyDocumentError(check.problems)
    return {"default": default, "rules": rules}
