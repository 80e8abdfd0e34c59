"""Check a policy against expected decisions, for our users' CI pipelines.

CASES.yaml:

    cases:
      - name: reads are self-service
        request: {action: metrics.cpu.read, resource: "prom://prod"}
        expect: {effect: allow, rules: [reads-are-self-service]}
      - name: exports with PII need two privacy approvals
        request: {action: data.export, resource: "s3://x", justification: churn}
        findings: [{entity: EMAIL_ADDRESS, score: 0.9}]
        expect: {effect: require_approval, approvals: 2, reviewers: [privacy]}

``expect`` may name effect, rules, approvals, reviewers, require_justification,
timeout (a duration) and message (a substring). Exit 1 on any mismatch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.decisions import Decision, RequestFacts
from policies.document import PolicyDocumentError, parse_document, parse_duration
from policies.evaluator import evaluate

REQUEST_KEYS = {"action", "resource", "environment", "agent", "payload", "context", "justification"}
EXPECT_KEYS = {
    "effect",
    "rules",
    "approvals",
    "reviewers",
    "require_justification",
    "timeout",
    "message",
}


def _mismatches(expect: dict[str, Any], decision: Decision) -> list[str]:
    got = decision.as_dict()
    problems = []
    for key, wanted in expect.items():
        if key == "rules":
            ok = sorted(wanted) == sorted(got["rules"])
            actual: Any = got["rules"]
        elif key == "reviewers":
            ok = sorted(wanted) == got["reviewers"]
            actual = got["reviewers"]
        elif key == "timeout":
            actual = got["timeout_seconds"]
            ok = parse_duration(wanted) == actual
        elif key == "message":
            actual = got["message"]
            ok = str(wanted) in actual
        else:
            actual = got[key]
            ok = wanted == actual
        if not ok:
            problems.append(f"{key}: expected {wanted!r}, got {actual!r}")
    return problems


class Command(BaseCommand):
    help = "Evaluate FILE against the sample requests of CASES; exit 1 on any mismatch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("cases")

    def handle(self, *args: object, **options: object) -> None:
        try:
            policy = parse_document(Path(str(options["file"])).read_text(encoding="utf-8"))
        except PolicyDocumentError as exc:
            raise CommandError("\n".join(f"{options['file']}: {p}" for p in exc.problems)) from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        try:
            cases = yaml.safe_load(Path(str(options["cases"])).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CommandError(f"cannot read the cases: {exc}") from exc
        if not isinstance(cases, dict) or not isinstance(cases.get("cases"), list):
            raise CommandError("the cases file needs a top-level list `cases`")

        failed = 0
        for index, case in enumerate(cases["cases"], 1):
            name = case.get("name", f"case {index}") if isinstance(case, dict) else f"case {index}"
            try:
                request, expect = self._check_case(case)
            except ValueError as exc:
                raise CommandError(f"{name}: {exc}") from exc
            decision = evaluate(
                policy, RequestFacts.from_mapping(request), case.get("findings") or [], version=None
            )
            problems = _mismatches(expect, decision)
            if problems:
                failed += 1
                self.stdout.write(f"FAIL {name}")
                for problem in problems:
                    self.stdout.write(f"     {problem}")
            else:
                self.stdout.write(f"ok   {name}")
        total = len(cases["cases"])
        self.stdout.write(f"{total - failed} passed, {failed} failed")
        if failed:
            raise SystemExit(1)

    @staticmethod
    def _check_case(case: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        if not isinstance(case, dict):
            raise ValueError("each case is a mapping")
        request, expect = case.get("request"), case.get("expect")
        if not isinstance(request, dict) or not {"action", "resource"} <= set(request):
            raise ValueError("`request` needs at least action and resource")
        if set(request) - REQUEST_KEYS:
            raise ValueError(f"unknown request keys {sorted(set(request) - REQUEST_KEYS)}")
        if not isinstance(expect, dict) or not expect or set(expect) - EXPECT_KEYS:
            raise ValueError(f"`expect` names some of {sorted(EXPECT_KEYS)}")
        request.setdefault("context", {})
        return request, expect
