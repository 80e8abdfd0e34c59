"""Audit log throughput and verification speed, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/airlock_bench_audit \\
        python benchmarks/audit.py --appends 4000 --verify-events 1000000

Needs an empty scratch database (its name must contain "bench"); benchmarks/audit.sh
makes one. Prints:

- appends per second through ``audit.services.record`` (each in its own
  transaction, as a request writes one) with 1, 4 and 16 concurrent writers, each a
  thread with its own connection; baseline in the same run: the same rows inserted
  into an unchained copy of the table, which shows what serialising on the chain
  head costs;
- for a log of ``--verify-events`` events (generated with the same chain code and
  loaded with COPY): the time to sign a checkpoint over all of it and to verify it
  (``audit_verify``'s code), in events per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
os.environ.setdefault("AUDIT_SIGNING_KEY", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from airlock.canonical import strict_bytes  # noqa: E402
from audit import catalogue  # noqa: E402
from audit import verify as chain  # noqa: E402
from audit.models import AuditEvent, ChainHead  # noqa: E402
from audit.services import record, sign_checkpoint, timestamp  # noqa: E402
from audit.verification import EVENT_COLUMNS, verify_database  # noqa: E402

catalogue.declare("bench.event", "written by the audit benchmark", "CC4.1")
DATA = {"action": "data.export", "resource": "postgres://warehouse/customers", "approvals": 2}


def run_writers(writers: int, total: int, append) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    per_writer = total // writers
    barrier = threading.Barrier(writers + 1)
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(number: int) -> None:
        mine = []
        try:
            barrier.wait()
            for i in range(per_writer):
                started = time.perf_counter()
                append(number, i)
                mine.append(time.perf_counter() - started)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return (per_writer * writers) / wall, sorted(latencies)


def chained_append(number: int, i: int) -> None:
    with transaction.atomic():
        record("bench.event", f"writer:{number}", f"thing:{i}", DATA)


def plain_append(number: int, i: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_plain (at, event_type, actor, target, data) "
            "VALUES (now(), %s, %s, %s, %s)",
            ["bench.event", f"writer:{number}", f"thing:{i}", '{"approvals": 2}'],
        )


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p / 100))] * 1000


def bench_appends(total: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_plain (seq bigserial primary key, at timestamptz, event_type text, "
            "actor text, target text, data jsonb)"
        )
    print(f"appends: {total} per configuration, each in its own transaction")
    for writers in (1, 4, 16):
        base_rate, _ = run_writers(writers, total, plain_append)
        rate, latencies = run_writers(writers, total, chained_append)
        print(
            f"  {writers:2d} writers: {rate:7.0f} appends/s (p50 {pct(latencies, 50):.2f} ms, "
            f"p99 {pct(latencies, 99):.2f} ms); unchained insert {base_rate:7.0f}/s; "
            f"ratio {rate / base_rate:.2f}"
        )
    assert verify_database().ok


def load_events(count: int) -> None:
    """Append ``count`` chained events with COPY, continuing the current chain."""
    head = ChainHead.objects.get(pk=1)
    previous = bytes.fromhex(head.chain_hash)
    seq = head.seq
    start = datetime(2026, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY audit_auditevent ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for _ in range(count):
                seq += 1
                at = start + timedelta(milliseconds=seq)
                data_bytes = strict_bytes({**DATA, "n": seq})
                canonical = chain.event_canonical(
                    seq=seq,
                    at=timestamp(at),
                    event_type="bench.bulk",
                    actor="agent:bench",
                    target=f"action:{seq}",
                    data_bytes=data_bytes,
                )
                leaf = chain.leaf_hash(canonical)
                link = chain.chain_hash(previous, leaf)
                copy.write_row(
                    (
                        seq,
                        at,
                        "bench.bulk",
                        "agent:bench",
                        f"action:{seq}",
                        data_bytes.decode(),
                        canonical.decode(),
                        leaf.hex(),
                        previous.hex(),
                        link.hex(),
                    )
                )
                previous = link
        cursor.execute(
            "UPDATE audit_chainhead SET seq = %s, chain_hash = %s WHERE id = 1",
            [seq, previous.hex()],
        )
    print(f"  generated and loaded {count} events in {time.perf_counter() - started:.1f} s")


def bench_verify(count: int) -> None:
    print(f"verification over a log of {count + AuditEvent.objects.count()} events:")
    load_events(count)
    total = AuditEvent.objects.count()
    started = time.perf_counter()
    checkpoint = sign_checkpoint()
    sign_s = time.perf_counter() - started
    print(
        f"  first checkpoint over {checkpoint.tree_size} events: {sign_s:.1f} s "
        f"({checkpoint.tree_size / sign_s:,.0f} leaves/s)"
    )
    started = time.perf_counter()
    result = verify_database()
    verify_s = time.perf_counter() - started
    assert result.ok, result.problems
    print(
        f"  audit_verify: {result.events} events in {verify_s:.1f} s: "
        f"{result.events / verify_s:,.0f} events/s"
    )
    assert result.events == total


def main() -> int:
    parser = argparse.ArgumentParser(description="audit log throughput and verification speed")
    parser.add_argument("--appends", type=int, default=4000)
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    args = parser.parse_args()
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql" or "bench" not in database["NAME"]:
        print("set DATABASE_URL to an empty PostgreSQL database whose name contains 'bench'")
        return 2
    call_command("migrate", verbosity=0)
    print(f"machine: {os.cpu_count()} cores; PostgreSQL {connection.pg_version // 10000}")
    bench_appends(args.appends)
    bench_verify(args.verify_events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
