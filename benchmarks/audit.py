"""Audit log throughput, sequencing delay and verification speed, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/airlock_auditseq_bench \\
        python benchmarks/audit.py --appends 4000 --verify-events 1000000

Needs an empty scratch database (its name must contain "bench"); benchmarks/audit.sh
makes one and also runs the pgbench ceiling. Prints, each next to its baseline from
the same run:

- appends per second through ``audit.services.record``, each in its own transaction
  as a request writes one, with 1, 4 and 16 concurrent writers. Each writer is a
  process of its own with its own connection (threads would measure the GIL, not
  the log). ``deferred``: the insert only, while a sequencer process
  (``audit.sequencer.follow``, what ``manage.py audit_sequence --follow`` runs)
  chains the events; the figure counts until the last event is *sequenced*.
  Baseline ``head lock``: ``AUDIT_SEQUENCER=inline``, each writer sequencing its
  event under the chain head's row lock until it commits (the old shape);
- the time from a writer's commit to its event being sequenced (p50, p99);
- for a log of ``--verify-events`` events (generated with the same chain code and
  loaded with COPY): a checkpoint over all of it, then ``verify_database`` in one
  process and with a worker per core (what ``audit_verify`` runs) against the
  previous verifier's code path (the ORM rows as dicts, ``_event_problem`` per
  event, one ``Frontier.append`` per leaf), all over the same rows.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
os.environ.setdefault("DB_POOL_MIN_SIZE", "1")  # 18 processes, each with its own pool
os.environ.setdefault("AUDIT_SIGNING_KEY", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from airlock.canonical import strict_bytes  # noqa: E402
from audit import catalogue, keys, sequencer  # noqa: E402
from audit import verify as chain  # noqa: E402
from audit.models import AuditEvent, ChainHead  # noqa: E402
from audit.services import record, sign_checkpoint, timestamp  # noqa: E402
from audit.verification import EVENT_COLUMNS, checkpoint_rows, event_rows, verify_database  # noqa: E402

catalogue.declare("bench.event", "written by the audit benchmark", "CC4.1")
DATA = {"action": "data.export", "resource": "postgres://warehouse/customers", "approvals": 2}
FORK = multiprocessing.get_context("fork")


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p / 100))] * 1000


# --- appends -------------------------------------------------------------------------------


def _detach() -> None:
    """Before forking: no connection, and no pool, for a child to inherit (a shared
    socket interleaves two processes' queries). Each child opens its own."""
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()


def _writer(mode: str, number: int, count: int, start: Any, out: Any, own: bool = False) -> None:
    settings.AUDIT["SEQUENCER"] = mode
    commits: list[tuple[int, float]] = []
    latencies: list[float] = []
    start.wait()
    for i in range(count):
        began = time.perf_counter()
        if own:  # record() called outside a transaction: the event is one of its own
            event = record("bench.event", f"writer:{number}", f"thing:{i}", DATA)
        else:  # inside the caller's transaction, as a request's change writes it
            with transaction.atomic():
                event = record("bench.event", f"writer:{number}", f"thing:{i}", DATA)
        latencies.append(time.perf_counter() - began)
        commits.append((event.id, time.time()))
    connection.close()
    out.put((commits, latencies))


def _follower(stop: Any, out: Any) -> None:
    passes: list[tuple[float, int]] = []

    def noted(_: int) -> None:
        passes.append((time.time(), sequencer.sequenced_through()))

    sequencer.follow(pause=0.005, should_stop=stop.is_set, on_pass=noted)
    connection.close()
    out.put(passes)


def run_appends(mode: str, writers: int, total: int, own: bool = False) -> dict[str, Any]:
    """``writers`` processes writing ``total`` events between them; in deferred mode a
    follower sequences them. The time runs until the last event is sequenced."""
    per_writer = total // writers
    start, stop, out, follower_out = FORK.Event(), FORK.Event(), FORK.Queue(), FORK.Queue()
    before = sequencer.sequenced_through()
    _detach()
    follower = None
    if mode == sequencer.DEFERRED:
        follower = FORK.Process(target=_follower, args=(stop, follower_out))
        follower.start()
    procs = [
        FORK.Process(target=_writer, args=(mode, n, per_writer, start, out, own))
        for n in range(writers)
    ]
    for proc in procs:
        proc.start()
    time.sleep(0.5)  # every writer connected and waiting
    began = time.time()
    start.set()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    written = time.time()
    expected = before + per_writer * writers
    while sequencer.sequenced_through() < expected:
        time.sleep(0.002)
    done = time.time()
    passes: list[tuple[float, int]] = []
    if follower is not None:
        stop.set()
        passes = follower_out.get()
        follower.join()
    commits = [c for r in results for c in r[0]]
    latencies = sorted(x for r in results for x in r[1])
    delays: list[float] = []
    if passes:
        seq_of = dict(
            AuditEvent.objects.filter(id__in=[i for i, _ in commits]).values_list("id", "seq")
        )
        for event_id, committed in commits:
            seq = seq_of[event_id]
            sequenced_at = next(t for t, through in passes if through >= seq)
            delays.append(max(sequenced_at - committed, 0.0))
        delays.sort()
    return {
        "rate": per_writer * writers / (done - began),
        "insert_rate": per_writer * writers / (written - began),
        "latencies": latencies,
        "delays": delays,
    }


def _backend_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend (a local server only)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_one_writer(count: int = 2000) -> None:
    """Where one writer's append goes: wall time, this process's CPU (user and
    system) and its PostgreSQL backend's, per append, next to a transaction that
    only runs ``SELECT 1`` (Django's transaction and three round trips, no audit)."""
    before = settings.AUDIT.get("SEQUENCER")
    settings.AUDIT["SEQUENCER"] = sequencer.DEFERRED

    def append(i: int) -> None:
        with transaction.atomic():
            record("bench.event", "writer:0", f"thing:{i}", DATA)

    def alone(i: int) -> None:
        record("bench.event", "writer:0", f"thing:{i}", DATA)

    def select_one(_: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    print(f"one writer, {count} transactions each, per transaction:")
    shapes = (
        ("record() and commit", append),
        ("record() on its own", alone),
        ("SELECT 1 and commit", select_one),
    )
    for name, body in shapes:
        body(0)
        backend, times, wall = _backend_cpu(), os.times(), time.perf_counter()
        for i in range(count):
            body(i)
        wall, after, backend_after = time.perf_counter() - wall, os.times(), _backend_cpu()
        user, system = (after.user - times.user), (after.system - times.system)
        server = (
            f"{(backend_after - backend) / count * 1e6:4.0f} us"
            if backend is not None and backend_after is not None
            else "n/a"
        )
        print(
            f"  {name:20s} wall {wall / count * 1e6:4.0f} us, writer CPU "
            f"{(user + system) / count * 1e6:4.0f} us (user {user / count * 1e6:.0f}, "
            f"system {system / count * 1e6:.0f}), PostgreSQL backend CPU {server}"
        )
    settings.AUDIT["SEQUENCER"] = before
    sequencer.sequence_all()


def bench_appends(total: int) -> None:
    print(f"appends through record(): {total} per configuration, each in its own transaction,")
    print("each writer a process with its own connection")
    for writers in (1, 4, 16):
        old = run_appends(sequencer.INLINE, writers, total)
        new = run_appends(sequencer.DEFERRED, writers, total)
        print(
            f"  {writers:2d} writers: deferred {new['rate']:6.0f} appends/s sequenced "
            f"(inserts {new['insert_rate']:6.0f}/s, p50 {pct(new['latencies'], 50):.2f} ms, "
            f"p99 {pct(new['latencies'], 99):.2f} ms) | head lock {old['rate']:6.0f}/s "
            f"(p50 {pct(old['latencies'], 50):.2f} ms, p99 {pct(old['latencies'], 99):.2f} ms)"
            f" | x{new['rate'] / old['rate']:.1f}"
        )
        print(
            f"              commit to sequenced: p50 {pct(new['delays'], 50):.1f} ms, "
            f"p99 {pct(new['delays'], 99):.1f} ms, max {new['delays'][-1] * 1000:.1f} ms"
        )
    # record() outside any transaction: one INSERT is the whole transaction (no BEGIN
    # and COMMIT round trips), as an allowed filing's one query is for its request.
    own = run_appends(sequencer.DEFERRED, 16, total, own=True)
    print(
        f"  16 writers, each record() its own transaction: deferred {own['rate']:6.0f} "
        f"appends/s sequenced (inserts {own['insert_rate']:6.0f}/s, "
        f"p50 {pct(own['latencies'], 50):.2f} ms, p99 {pct(own['latencies'], 99):.2f} ms)"
    )
    print(
        f"              commit to sequenced: p50 {pct(own['delays'], 50):.1f} ms, "
        f"p99 {pct(own['delays'], 99):.1f} ms, max {own['delays'][-1] * 1000:.1f} ms"
    )
    result = verify_database()
    assert result.ok, result.problems
    print(f"  the log verifies: {result.events} events, gapless")


def bench_catch_up() -> None:
    """What pgbench left unsequenced (audit.sh runs it first): one sequencer alone."""
    waiting = AuditEvent.objects.filter(seq__isnull=True).count()
    if not waiting:
        return
    started = time.perf_counter()
    done = sequencer.sequence_all(wait=True)
    took = time.perf_counter() - started
    print(
        f"sequencer catching up alone: {done} events in {took:.1f} s ({done / took:,.0f} events/s)"
    )


# --- verification -----------------------------------------------------------------------------


def load_events(count: int) -> None:
    """Append ``count`` chained events with COPY, continuing the current chain."""
    head = ChainHead.objects.get(pk=1)
    previous = bytes.fromhex(head.chain_hash)
    seq = head.seq
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM audit_auditevent")
        next_id = cursor.fetchone()[0]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    columns = ("id", *EVENT_COLUMNS)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN") as copy:
            for _ in range(count):
                seq += 1
                next_id += 1
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
                        next_id,
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
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)", [next_id]
        )
        cursor.execute("VACUUM ANALYZE audit_auditevent")
    print(f"  generated and loaded {count} events in {time.perf_counter() - started:.1f} s")


def previous_verifier() -> chain.Result:
    """The verifier as it was before this change, kept as the baseline: ORM rows as
    dicts with a datetime formatted per event, the same checks event by event
    (``_event_problem``), a Merkle frontier grown one leaf at a time."""
    result = chain.Result()
    pending = chain._open_checkpoints(checkpoint_rows(), keys.published_keys(), result)
    frontier, previous, expected = chain.Frontier(), chain.GENESIS, 1
    for event in event_rows():
        seq = int(event["seq"])
        if seq != expected:
            result.fail(expected, f"event {expected} is missing")
            break
        problem, leaf = chain._event_problem(event, seq, previous)
        if problem:
            result.fail(seq, problem)
            break
        frontier.append(leaf)
        previous = chain.chain_hash(previous, leaf)
        result.events = seq
        expected += 1
        while pending and pending[0].size == frontier.size:
            checkpoint = pending.pop(0)
            if checkpoint.root != frontier.root() or checkpoint.chain != previous:
                result.fail(checkpoint.size, "checkpoint mismatch")
    return result


def bench_verify(count: int) -> None:
    print(f"verification over a log of {count + sequencer.sequenced_through()} events:")
    load_events(count)
    total = sequencer.sequenced_through()
    started = time.perf_counter()
    checkpoint = sign_checkpoint()
    sign_s = time.perf_counter() - started
    print(
        f"  a checkpoint over {checkpoint.tree_size} events: {sign_s:.1f} s "
        f"({checkpoint.tree_size / sign_s:,.0f} leaves/s)"
    )
    runs = []
    cores = os.cpu_count() or 1
    for workers in (1, 1, cores):  # the second one-process run reads warm pages
        started = time.perf_counter()
        result = verify_database(workers=workers)
        took = time.perf_counter() - started
        assert result.ok, result.problems
        assert result.events == total
        runs.append((workers, total / took, took))
    started = time.perf_counter()
    old = previous_verifier()
    old_s = time.perf_counter() - started
    assert old.ok, old.problems
    assert old.events == total
    old_rate = total / old_s
    print(f"  previous verifier: {total} events in {old_s:.1f} s: {old_rate:,.0f} events/s")
    for workers, rate, took in runs:
        print(
            f"  verify_database(workers={workers}): {took:.2f} s: {rate:,.0f} events/s "
            f"(x{rate / old_rate:.1f})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description="audit log throughput and verification speed")
    parser.add_argument("--appends", type=int, default=4000)
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--skip-appends", action="store_true")
    parser.add_argument("--migrate-only", action="store_true")
    args = parser.parse_args()
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("postgresql") or "bench" not in database["NAME"]:
        print("set DATABASE_URL to an empty PostgreSQL database whose name contains 'bench'")
        return 2
    call_command("migrate", verbosity=0)
    if args.migrate_only:
        return 0
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "chain_hash": chain.GENESIS.hex()})
    print(
        f"machine: {os.cpu_count()} cores; PostgreSQL {connection.pg_version // 10000}; "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    bench_catch_up()
    if not args.skip_appends:
        bench_one_writer()
        bench_appends(args.appends)
    if args.verify_events:
        bench_verify(args.verify_events)
    print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
