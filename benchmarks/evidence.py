"""Evidence package build time and peak memory over a quarter of generated traffic.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/airlock_evidence \\
        python benchmarks/evidence.py --requests 100000 --out /tmp/evidence.zip

Needs a scratch PostgreSQL database whose name contains "bench" or "evidence": the
script drops and re-creates its ``public`` schema. It generates the data with bulk
inserts (COPY for the chained audit events, ``bulk_create`` for requests and
reviews), never through the API: about five events a request (filed, screened,
pending, reviews, a refused self-approval now and then, the decision, an outcome;
half the approvals issue a grant, and half of those are redeemed).
Then it runs, each in its own process so its peak RSS is its own:

- the baseline: one streamed read of the range's events (``SELECT canonical ...
  ORDER BY seq``), the least any package over them costs;
- ``manage.py evidence_report --timings`` over the quarter: wall time, peak RSS,
  and each phase, so the build is shown with and without the whole-log audit
  verification it runs first (``verify_database``, audit's to speed up);
- ``audit/verify.py evidence`` on the package it wrote: wall time and peak RSS.

It prints the figures; it asserts only that the package verifies.
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
os.environ.setdefault("AUDIT_SIGNING_KEY", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")

import django  # noqa: E402
import psycopg  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.services import create_agent  # noqa: E402
from airlock.canonical import strict_bytes  # noqa: E402
from approvals.models import ActionRequest, Review  # noqa: E402
from audit import catalogue, keys  # noqa: E402
from audit import verify as chain  # noqa: E402
from audit.services import sign_checkpoint, timestamp  # noqa: E402
from audit.verification import EVENT_COLUMNS  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)
QUARTER = timedelta(days=90)
ACTIONS = ("data.export", "iam.grant", "k8s.restart", "schema.migrate", "secrets.rotate")
REQUIREMENT = [{"rule": "default", "approvals": 1, "reviewers": ["reviewers"]}]
GRANT = {"ttl": 600, "audience": "airlock-executor"}


class Log:
    """Chained events appended through one COPY, in time order."""

    def __init__(self, copy: Any):
        self.copy = copy
        self.seq = 0
        self.previous = chain.GENESIS

    def append(self, at: datetime, event_type: str, actor: str, target: str, data: dict) -> None:
        self.seq += 1
        data_bytes = strict_bytes(data)
        canonical = chain.event_canonical(
            seq=self.seq,
            at=timestamp(at),
            event_type=event_type,
            actor=actor,
            target=target,
            data_bytes=data_bytes,
        )
        leaf = chain.leaf_hash(canonical)
        link = chain.chain_hash(self.previous, leaf)
        self.copy.write_row(
            (
                self.seq,
                at,
                event_type,
                actor,
                target,
                data_bytes.decode(),
                canonical.decode(),
                leaf.hex(),
                self.previous.hex(),
                link.hex(),
            )
        )
        self.previous = link


def generate(count: int, rng: random.Random) -> int:
    reviewers = [
        UserFactory(email=f"reviewer{i}@example.com", groups=["reviewers"]) for i in range(12)
    ]
    owners = [UserFactory(email=f"owner{i}@example.com", groups=["reviewers"]) for i in range(4)]
    agents = [
        create_agent(name=f"bench-agent-{i}", owner_email=o.email)[0] for i, o in enumerate(owners)
    ]
    spacing = QUARTER / count
    heap: list[tuple[datetime, int, str, str, str, dict]] = []
    order = 0
    requests: list[ActionRequest] = []
    reviews: list[Review] = []

    def flush() -> None:
        ActionRequest.objects.bulk_create(requests, batch_size=2000)
        Review.objects.bulk_create(reviews, batch_size=2000)
        requests.clear()
        reviews.clear()

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent, audit_checkpoint")  # the factories' events
    # The events stream through COPY on a connection of their own while Django's
    # connection inserts the requests and reviews in batches.
    columns = ", ".join(EVENT_COLUMNS)
    with (
        psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as raw,
        raw.cursor() as cursor,
        cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy,
    ):
        log = Log(copy)
        for i in range(count):
            created = START + spacing * i
            while heap and heap[0][0] <= created:
                at, _, *event = heapq.heappop(heap)
                log.append(at, *event)
            agent = agents[i % len(agents)]
            target = f"action:{(pk := uuid.uuid4())}"
            roll = rng.random()
            seconds = int(30 * (480 ** rng.random()))  # 30 s .. 4 h, log-uniform
            decided = created + timedelta(seconds=seconds)
            reviewer = reviewers[rng.randrange(len(reviewers))]
            if roll < 0.10:
                status, decided = "approved", created
            elif roll < 0.70:
                status = "approved"
            elif roll < 0.85:
                status = "denied"
            elif roll < 0.95:
                status, decided = "expired", created + timedelta(hours=1)
            else:
                status = "approved"  # after a refused self-approval
            events = [
                (
                    created,
                    catalogue.ACTION_CREATED,
                    f"agent:{agent.name}",
                    target,
                    {
                        "action": ACTIONS[i % len(ACTIONS)],
                        "resource": f"db://warehouse/t{i % 997}",
                        "environment": "production",
                        "status": "approved" if roll < 0.10 else "screening",
                        "payload_sha256": "0" * 64,
                        "on_behalf_of": None,
                        "policy": {"version": 1, "rules": [], "effect": "require_approval"},
                        "requirements": REQUIREMENT,
                        "expires_at": timestamp(created + timedelta(hours=1)),
                    },
                ),
            ]
            if roll < 0.10:
                events.append(
                    (
                        created,
                        catalogue.ACTION_APPROVED,
                        "policy",
                        target,
                        {"from": None, "to": "approved", "rules": ["reads"]},
                    )
                )
            else:
                step = created + timedelta(seconds=2)
                events.append((step, catalogue.ACTION_SCREENED, "system", target, {"findings": 0}))
                events.append(
                    (
                        step,
                        catalogue.ACTION_PENDING,
                        "policy",
                        target,
                        {"from": "screening", "to": "pending"},
                    )
                )
                if roll >= 0.95:
                    events.append(
                        (
                            step + timedelta(seconds=5),
                            catalogue.ACTION_REVIEW_REFUSED,
                            f"user:{agent.owner.email}",
                            target,
                            {"verdict": "approve", "code": "self_approval", "via": "console"},
                        )
                    )
                if status == "expired":
                    events.append(
                        (
                            decided,
                            catalogue.ACTION_EXPIRED,
                            "system",
                            target,
                            {"from": "pending", "to": "expired"},
                        )
                    )
                else:
                    verdict = "approve" if status == "approved" else "deny"
                    via = rng.choice(("console", "api", "console", "slack"))
                    events.append(
                        (
                            decided,
                            catalogue.ACTION_REVIEWED,
                            f"user:{reviewer.email}",
                            target,
                            {
                                "verdict": verdict,
                                "via": via,
                                "counted_for": [0] if verdict == "approve" else [],
                                "progress": [],
                            },
                        )
                    )
                    events.append(
                        (
                            decided,
                            catalogue.ACTION_APPROVED
                            if verdict == "approve"
                            else catalogue.ACTION_DENIED,
                            f"user:{reviewer.email}",
                            target,
                            {"from": "pending", "to": status},
                        )
                    )
                    reviews.append(
                        Review(
                            action_id=pk,
                            reviewer=reviewer,
                            verdict=verdict,
                            via=via,
                            created_at=decided,
                            counted_for=[0] if verdict == "approve" else [],
                        )
                    )
            granted = status == "approved" and rng.random() < 0.5
            if granted and rng.random() < 0.5:
                events.append(
                    (
                        decided + timedelta(seconds=10),
                        catalogue.GRANT_REDEEMED,
                        f"agent:{agent.name}",
                        target,
                        {
                            "jti": f"grant-{pk.hex}",
                            "executor": agent.name,
                            "payload_checked": False,
                            "broker": None,
                        },
                    )
                )
            if status == "approved":
                events.append(
                    (
                        decided + timedelta(seconds=30),
                        catalogue.ACTION_OUTCOME_REPORTED,
                        f"agent:{agent.name}",
                        target,
                        {"result": "succeeded", "detail_sha256": "0" * 64},
                    )
                )
            for event in events:
                order += 1
                heapq.heappush(heap, (event[0], order, *event[1:]))
            requests.append(
                ActionRequest(
                    id=pk,
                    status=status,
                    action=ACTIONS[i % len(ACTIONS)],
                    resource=f"db://warehouse/t{i % 997}",
                    environment="production",
                    payload_sha256="0" * 64,
                    requester_agent=agent,
                    requester_owner=agent.owner,
                    policy_version=1,
                    policy_effect="require_approval",
                    approvals_required=1,
                    requirements=REQUIREMENT,
                    request_fingerprint="bench",
                    created_at=created,
                    decided_at=decided,
                    expires_at=created + timedelta(hours=1),
                    outcome="succeeded" if status == "approved" else "",
                    outcome_at=decided + timedelta(seconds=30) if status == "approved" else None,
                    grant_spec=GRANT if granted else None,
                )
            )
            if len(requests) >= 2000:
                flush()
        while heap:
            at, _, *event = heapq.heappop(heap)
            log.append(at, *event)
    flush()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_chainhead SET seq = %s, chain_hash = %s WHERE id = 1",
            [log.seq, log.previous.hex()],
        )
    return log.seq


# The child prints its own high-water mark (VmHWM) as it exits: a fork's ru_maxrss
# would count this (large) parent's pages from before the exec.
PEAK = (
    "import atexit, sys; atexit.register(lambda: print([l for l in open('/proc/self/status')"
    " if l.startswith('VmHWM')][0].split()[1], file=sys.stderr)); "
)


CPU = {"last": 0.0}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str, str]:
    """Wall seconds, peak RSS in MB of the child, its stdout and stderr; the child's
    CPU seconds (user + system) are left in ``CPU["last"]``."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, cwd=ROOT, check=False)  # noqa: S603
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = done.stdout.decode()
    if done.returncode != 0 and "verifies" not in output:
        print(output, done.stderr.decode()[-3000:])
        raise SystemExit(f"{command[:3]} failed")
    peak_kb = int(done.stderr.decode().strip().splitlines()[-1])
    return elapsed, peak_kb / 1024, output, done.stderr.decode()


def main() -> int:
    parser = argparse.ArgumentParser(description="evidence package build time and memory")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--out", default=str(ROOT / "var" / "evidence-bench.zip"))
    parser.add_argument("--sample", type=int, default=25)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the data a previous run generated"
    )
    args = parser.parse_args()
    database = settings.DATABASES["default"]
    name = database.get("NAME", "")
    if not database["ENGINE"].endswith("postgresql") or not ("bench" in name or "evidence" in name):
        print("set DATABASE_URL to a scratch PostgreSQL database named *bench* or *evidence*")
        return 2
    if args.reuse:
        print("reusing the data a previous run generated (--reuse)")
    else:
        prepare(args.requests)
    connection.close()
    measure(args)
    return 0


def prepare(count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:  # bulk loading, like a restore: no append-only triggers
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER")
    started = time.perf_counter()
    events = generate(count, random.Random(7))
    print(
        f"generated {count:,} requests, {events:,} audit events "
        f"in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    checkpoint = sign_checkpoint()
    assert checkpoint is not None
    print(
        f"signed a checkpoint over {checkpoint.tree_size:,} events "
        f"in {time.perf_counter() - started:.1f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE audit_checkpoint ENABLE TRIGGER USER")
        cursor.execute("ANALYZE")


def measure(args: argparse.Namespace) -> None:
    env = {**os.environ}
    python = sys.executable
    # The baseline: the range's events read once, in seq order, through a named
    # (server-side) cursor, and nothing done with them.
    baseline = PEAK + (  # noqa: S608 (a constant query, not built from input)
        "import os, psycopg\n"
        "with psycopg.connect(os.environ['DATABASE_URL']) as c, c.cursor('b') as cur:\n"
        "    cur.itersize = 5000\n"
        "    cur.execute('SELECT canonical FROM audit_auditevent ORDER BY seq')\n"
        "    n = sum(1 for _ in cur)\n"
        "print(n)"
    )
    elapsed, peak, output, _ = timed([python, "-c", baseline], env)
    print(
        f"baseline, the range's {int(output):,} events read once: "
        f"{elapsed:.1f} s wall ({CPU['last']:.1f} s CPU), peak RSS {peak:.0f} MB"
    )
    # call_command, not `manage.py`: the same build without the system checks, which
    # would import every app's template tags (the shared venv can see other trees').
    build = PEAK + (
        "import django, sys; django.setup(); from django.core.management import call_command; "
        "call_command('evidence_report', *sys.argv[1:])"
    )
    elapsed, peak, output, stderr = timed(
        [
            python,
            "-c",
            build,
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--out",
            args.out,
            "--sample",
            str(args.sample),
            "--seed",
            "bench",
            "--timings",
        ],
        env,
    )
    build_cpu = CPU["last"]
    phases = {
        name: (float(wall), float(cpu))
        for name, wall, cpu in (
            line.split() for line in stderr.splitlines() if line.count(" ") == 2
        )
    }
    size = Path(args.out).stat().st_size
    print(
        f"evidence_report: {elapsed:.1f} s wall ({build_cpu:.1f} s CPU), "
        f"peak RSS {peak:.0f} MB, "
        f"zip {size / 2**20:.1f} MiB, sha256 {output.strip()[:16]}…"
    )
    wall, cpu = phases.get("verify_database", (0.0, 0.0))
    print(
        f"  of which verify_database (the whole-log audit verification): {wall:.1f} s wall "
        f"({cpu:.1f} s CPU); the build without it: {elapsed - wall:.1f} s wall "
        f"({build_cpu - cpu:.1f} s CPU)"
    )
    print(
        "  phases (wall/CPU s): "
        + ", ".join(f"{k} {w:.1f}/{c:.1f}" for k, (w, c) in phases.items())
    )
    keys_file = Path(args.out).with_suffix(".keys.json")
    import json

    keys_file.write_text(json.dumps({"keys": keys.published_keys()}))
    elapsed, peak, output, _ = timed(
        [
            python,
            "-c",
            PEAK + "import runpy; runpy.run_path('audit/verify.py', run_name='__main__')",
            "evidence",
            args.out,
            "--keys",
            str(keys_file),
        ],
        env,
    )
    print(
        f"verify.py evidence: {elapsed:.1f} s wall ({CPU['last']:.1f} s CPU), "
        f"peak RSS {peak:.0f} MB: "
        f"{output.strip().splitlines()[-1]}"
    )
    print(
        f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    sys.exit(main())
