"""Evaluations per second of the pure evaluator over a 200-rule policy.

    python benchmarks/policy_eval.py                 # print figures
    python benchmarks/policy_eval.py --write-policy benchmarks/policy-200.yaml

The policy is generated with a fixed seed: 120 rules on action globs, 40 on
resource/environment globs, 20 on data classes and 20 with CEL ``when``
expressions, plus one allow rule for ``*.read`` (the fast path of
benchmarks/fastpath.sh). Requests are drawn from the same vocabulary so that rules
match about as often as they would in use. Baseline in the same run: the built-in
default (no policy), i.e. the evaluator's fixed cost.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.decisions import RequestFacts
from policies.document import parse_document
from policies.evaluator import evaluate

VERBS = ["read", "export", "delete", "restart", "scale", "grant", "rotate", "alter", "drop", "copy"]
DOMAINS = ["data", "iam", "cluster", "key", "schema", "metrics", "billing", "queue", "dns", "cdn"]
ENVIRONMENTS = ["production", "staging", "dev", "prod-eu", "prod-us"]
ENTITIES = ["EMAIL_ADDRESS", "US_SSN", "CREDIT_CARD", "PERSON", "PHONE_NUMBER", "AWS_ACCESS_KEY"]
WHENS = [
    "has(payload.rows) && payload.rows > 10000",
    'has(context.model) && context.model == "x-untrusted"',
    "has(payload.replicas) && payload.replicas > 20",
    'has(payload.regions) && payload.regions.exists(r, r.startsWith("cn-"))',
]


def generate_policy(seed: int = 7) -> str:
    rnd = random.Random(seed)
    lines = [
        "default: {effect: require_approval, approvals: 1, reviewers: [reviewers], timeout: 1h}",
        "rules:",
        "  - {name: reads-are-self-service, match: {action: '*.read'}, effect: allow}",
    ]

    def outcome() -> str:
        effect = rnd.choice(["require_approval", "require_approval", "deny", "allow"])
        if effect == "require_approval":
            return (
                f"effect: require_approval, approvals: {rnd.randint(1, 3)}, "
                f"reviewers: [{rnd.choice(['sre', 'security', 'privacy', 'dba'])}]"
            )
        return f"effect: {effect}"

    for index in range(120):
        domain, verb = rnd.choice(DOMAINS), rnd.choice(VERBS)
        pattern = rnd.choice([f"{domain}.{verb}", f"{domain}.*", f"*.{verb}", f"{domain}.{verb}.*"])
        if verb == "read" and pattern.endswith("read"):
            pattern = f"{domain}.{verb}.v{index}"  # keep the fast path a fast path
        lines.append(f"  - {{name: action-{index}, match: {{action: '{pattern}'}}, {outcome()}}}")
    for index in range(40):
        domain = rnd.choice(DOMAINS)
        lines.append(
            f"  - {{name: where-{index}, match: {{action: '{domain}.*', "
            f"resource: '*{rnd.choice(['prod', 'customers', 'admin', 'billing'])}*', "
            f"environment: ['{rnd.choice(ENVIRONMENTS)}']}}, {outcome()}}}"
        )
    for index in range(20):
        entities = rnd.sample(ENTITIES, 2)
        lines.append(
            f"  - {{name: pii-{index}, match: {{action: '{rnd.choice(DOMAINS)}.*', "
            f"data_classes: [{', '.join(entities)}]}}, {outcome()}}}"
        )
    for index in range(20):
        lines.append(
            f"  - {{name: when-{index}, match: {{action: '{rnd.choice(DOMAINS)}.*', "
            f"when: '{rnd.choice(WHENS)}'}}, {outcome()}}}"
        )
    return "\n".join(lines) + "\n"


def requests(count: int, seed: int = 11) -> list[tuple[RequestFacts, list[dict]]]:
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        payload = {
            "rows": rnd.randint(0, 50000),
            "regions": [rnd.choice(["eu-west-1", "cn-north-1"])],
        }
        findings = [
            {"entity": rnd.choice(ENTITIES), "score": rnd.random(), "path": "$.x"}
            for _ in range(rnd.randint(0, 2))
        ]
        out.append(
            (
                RequestFacts(
                    action=f"{rnd.choice(DOMAINS)}.{rnd.choice(VERBS)}",
                    resource=rnd.choice(["pg://prod/customers", "s3://billing", "k8s://dev/api"]),
                    environment=rnd.choice(ENVIRONMENTS),
                    agent=rnd.choice(["etl-bot", "deploy-bot", None]),
                    payload=payload,
                    context={"model": rnd.choice(["gpt-x", "x-untrusted"])},
                    justification=rnd.choice(["", "weekly job"]),
                ),
                findings,
            )
        )
    return out


def measure(policy: dict | None, sample: list, repeat: int) -> tuple[float, list[float]]:
    timings = []
    started = time.perf_counter()
    for _ in range(repeat):
        for facts, findings in sample:
            t0 = time.perf_counter()
            evaluate(policy, facts, findings, version=1)
            timings.append(time.perf_counter() - t0)
    wall = time.perf_counter() - started
    return len(timings) / wall, sorted(timings)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p / 100))] * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-policy", help="write the generated policy here and exit")
    args = parser.parse_args()

    document = generate_policy()
    if args.write_policy:
        Path(args.write_policy).write_text(document)
        return 0

    started = time.perf_counter()
    policy = parse_document(document)
    parse_ms = (time.perf_counter() - started) * 1000
    sample = requests(args.requests)
    evaluate(policy, *sample[0])  # compile CEL programs once, as a server process does

    base_rate, base = measure(None, sample, args.repeat)
    rate, timings = measure(policy, sample, args.repeat)
    matched = [len(evaluate(policy, f, fi).rules) for f, fi in sample]
    print(f"policy: {len(policy['rules'])} rules; parse + check {parse_ms:.1f} ms")
    print(
        f"requests: {len(sample)} x {args.repeat}; "
        f"mean matched rules {statistics.fmean(matched):.2f}"
    )
    print(
        f"200-rule policy: {rate:,.0f} evaluations/s; "
        f"p50 {pct(timings, 50):.1f} us, p99 {pct(timings, 99):.1f} us"
    )
    print(
        f"built-in default (baseline): {base_rate:,.0f} evaluations/s; "
        f"p50 {pct(base, 50):.1f} us; ratio {base_rate / rate:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
