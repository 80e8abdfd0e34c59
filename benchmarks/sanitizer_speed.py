"""Screening throughput on realistic JSON payloads, against the naive way, same run.

Payloads (seeded, made offline with Faker): data exports with rows of customers
(names, e-mail addresses, phones, addresses, repeated status values), IAM changes,
deploys with configuration that holds credentials, and free-text tickets.

- ``screen``: Airlock's ``sanitization.screening.screen`` (distinct strings, batched
  through Presidio's batch analyzer, masks applied).
- ``before``: the same function at git revision ``--before`` (the screening this
  work started from, ``benchmarks/screening_baseline.py``), same payloads, same run;
- ``naive``: walk the same payloads and call ``AnalyzerEngine.analyze`` and the
  anonymizer on every string leaf, one at a time, with the same engine.

Memory: resident set size of this process before and after loading the engine
(the cost of one worker process), and at the end.

    .venv/bin/python benchmarks/sanitizer_speed.py [--payloads 300] [--model NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")
os.environ.setdefault("DEBUG", "1")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_payloads(n: int, seed: int) -> list[dict]:
    from faker import Faker

    fake = Faker("en_US")
    Faker.seed(seed)
    rng = random.Random(seed)
    payloads: list[dict] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            payloads.append(
                {
                    "query": "select id, name, email, phone, address from customers where churned",
                    "destination": f"s3://exports/{fake.uuid4()}.csv",
                    "rows": [
                        {
                            "id": rng.randint(1, 10**6),
                            "name": fake.name(),
                            "email": fake.email(),
                            "phone": fake.phone_number(),
                            "address": fake.address(),
                            "status": rng.choice(["active", "churned", "trial"]),
                            "country": "US",
                            "balance": round(rng.uniform(0, 5000), 2),
                        }
                        for _ in range(rng.randint(10, 40))
                    ],
                }
            )
        elif kind == 1:
            payloads.append(
                {
                    "principal": fake.email(),
                    "role": rng.choice(["roles/owner", "roles/viewer", "roles/editor"]),
                    "project": f"prod-{rng.randint(1, 40)}",
                    "reason": fake.sentence(nb_words=16),
                    "ticket": {"id": f"SEC-{rng.randint(100, 9999)}", "reporter": fake.name()},
                }
            )
        elif kind == 2:
            payloads.append(
                {
                    "service": f"api-{rng.randint(1, 50)}",
                    "image": f"registry.example.com/api:{fake.sha1()[:12]}",
                    "replicas": rng.randint(2, 30),
                    "env": {
                        "DATABASE_URL": f"postgres://app:{fake.password(16)}@db.internal/app",
                        "LOG_LEVEL": "info",
                        "FEATURE_FLAGS": "a,b,c",
                        "STRIPE_API_KEY": "sk_live_" + fake.pystr(24, 24),
                    },
                    "notes": fake.paragraph(nb_sentences=3),
                }
            )
        else:
            payloads.append(
                {
                    "ticket": fake.paragraph(nb_sentences=8),
                    "customer": {"full_name": fake.name(), "card": fake.credit_card_number()},
                    "comments": [fake.sentence() for _ in range(rng.randint(3, 10))],
                }
            )
    return payloads


def leaves(value):
    if isinstance(value, dict):
        for child in value.values():
            yield from leaves(child)
    elif isinstance(value, list):
        for child in value:
            yield from leaves(child)
    elif isinstance(value, str):
        yield value


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payloads", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--model", default=None, help="SCREENING_NLP_MODEL (default: settings)")
    parser.add_argument("--before", default=None, help="git revision to compare ('' for none)")
    parser.add_argument("--no-naive", action="store_true", help="skip the per-string loop")
    args = parser.parse_args()
    if args.model:
        os.environ["SCREENING_NLP_MODEL"] = args.model

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    before = rss_mib()
    from sanitization.engine import LANGUAGE, get_engine
    from sanitization.screening import screen

    started = time.perf_counter()
    engine = get_engine()
    load_s = time.perf_counter() - started
    loaded = rss_mib()

    payloads = make_payloads(args.payloads, args.seed)
    sizes = [len(json.dumps(p, ensure_ascii=False).encode()) for p in payloads]
    total_mb = sum(sizes) / 1e6
    screen(payloads[0])  # warm caches on both paths alike
    engine.analyzer.analyze("warm up", LANGUAGE)

    # The screening this work started from, run in the same process; the two are
    # timed payload by payload, in alternating order, so that both see the same load.
    before_screen = None
    if args.before != "":
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from screening_baseline import BEFORE, BEFORE_CONFIG, load

        package = load(args.before or BEFORE)
        before_engine = package.engine.build_engine(dict(BEFORE_CONFIG))
        package.screening.screen(payloads[0], engine=before_engine)

        def before_screen(payload):
            return package.screening.screen(payload, engine=before_engine)

    systems = [("screen", screen)] + ([("before", before_screen)] if before_screen else [])
    times: dict[str, list[float]] = {name: [] for name, _ in systems}
    found: dict[str, int] = dict.fromkeys(times, 0)
    for index, payload in enumerate(payloads):
        for name, run in systems if index % 2 == 0 else systems[::-1]:
            t = time.perf_counter()
            found[name] += len(run(payload).findings)
            times[name].append(time.perf_counter() - t)
    rows = [(name, sum(times[name]), times[name], found[name]) for name, _ in systems]
    ours = rows[0][1]

    naive_times = []
    naive_findings = 0
    t0 = time.perf_counter()
    for payload in payloads if not args.no_naive else []:
        t = time.perf_counter()
        for text in leaves(payload):
            results = engine.analyzer.analyze(
                text, LANGUAGE, entities=engine.entities, score_threshold=engine.score_threshold
            )
            naive_findings += len(results)
            engine.anonymizer.anonymize(text=text, analyzer_results=results)
        naive_times.append(time.perf_counter() - t)
    naive = time.perf_counter() - t0
    if not args.no_naive:
        rows.append(("naive ", naive, naive_times, naive_findings))
    end = rss_mib()

    print(
        f"{len(payloads)} payloads, {total_mb:.2f} MB of JSON"
        f" (median {statistics.median(sizes) / 1024:.1f} KiB,"
        f" max {max(sizes) / 1024:.1f} KiB), model {engine.model_name}"
    )
    for name, seconds, lat, found in rows:
        print(
            f"{name}: {len(payloads) / seconds:7.1f} payloads/s  {total_mb / seconds:6.3f} MB/s"
            f"  p50 {1000 * pct(lat, 0.5):7.1f} ms  p95 {1000 * pct(lat, 0.95):7.1f} ms"
            f"  findings {found}"
        )
    if not args.no_naive:
        print(f"speed-up of screen over naive: {naive / ours:.2f}x")
    print(
        f"memory: {before:.0f} MiB before the engine, {loaded:.0f} MiB loaded "
        f"(+{loaded - before:.0f} MiB, {load_s:.1f} s to load), {end:.0f} MiB at the end"
    )


if __name__ == "__main__":
    main()
