# ruff: noqa: S603, S607 - starts our own servers, psql, pgbench, wrk and git, on loopback
"""The HTTP fast path against its baselines, all in one run, loaded with wrk.

    .venv/bin/python benchmarks/http_fastpath.py            # ~10 minutes
    .venv/bin/python benchmarks/http_fastpath.py --base 94ebd05 --duration 10 --rounds 3

Prints, for 1 client and for 16 clients (one keep-alive connection each):

- the database's ceiling: pgbench committing one request row and one audit row per
  transaction (benchmarks/pgbench_fastpath.sql), 16 clients;
- a bare Django 5.2 view reading the database once (benchmarks/bare/), served by
  gunicorn (WSGI, 2 sync workers), by uvicorn (ASGI, 2 workers), and by uvicorn with
  Django's WSGI handler on threads behind airlock.wsgi_bridge (Airlock's shape);
- Airlock as this checkout serves it (``uvicorn airlock.asgi:application --workers 2``,
  DEBUG off, PostgreSQL, Redis): ``GET /healthz``, ``POST /api/v1/actions`` allowed at
  once by policy (no payload), and held for review by the default rule;
- the same three against ``--base`` (a git revision, checked out into a temporary
  worktree and served the same way from the same venv): the numbers to beat. Both
  are up at once (idle while the other is loaded) and measured in turn, each call
  ``--rounds`` times over, so that a shared host's drift (seen: 40% between two runs
  of the same code ten minutes apart) falls on both alike; a cell is its median run,
  a ratio the median of the rounds' ratios, with their range.

wrk is the load generator (C, one thread): the Python here only starts servers and
reads wrk's summary line, so it does not compete for the two cores while measuring.
Every answer's status is counted; a run with an unexpected status is reported, not
timed as a success.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")
LUA = ROOT / "benchmarks" / "wrk" / "report.lua"

POLICY = """\
default: {effect: require_approval, approvals: 1, reviewers: [reviewers], timeout: 1h}
rules:
  - name: reads-are-self-service
    match: {action: ["*.read"]}
    effect: allow
"""
ALLOWED = json.dumps({"action": "orders.read", "resource": "db/orders", "environment": "prod"})
HELD = json.dumps({"action": "orders.export", "resource": "db/orders", "environment": "prod"})


def psql(database: str, *commands: str) -> None:
    args = ["psql", f"{PG}/{database}", "-qX", "-v", "ON_ERROR_STOP=1"]
    for command in commands:
        args += ["-c", command]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def fresh_database(name: str) -> str:
    assert "bench" in name
    psql("postgres", f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    return f"{PG}/{name}"


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - loopback
                if answer.status < 500:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


@contextmanager
def server(args: list[str], cwd: Path, env: dict[str, str], port: int) -> Iterator[None]:
    process = subprocess.Popen(args, cwd=cwd, env=env, start_new_session=True)
    try:
        wait_for(
            f"http://127.0.0.1:{port}/healthz"
            if "airlock" in args[-1]
            else f"http://127.0.0.1:{port}/q"
        )
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wrk(url: str, clients: int, duration: int, **env: str) -> dict[str, float]:
    """One wrk run; returns requests/s and latency percentiles in ms."""
    run_env = {**os.environ, **env}
    output = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{duration}s", "--timeout", "10s", "-s", str(LUA), url],
        env=run_env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    result = json.loads(line[4:])
    return {
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50": result["p50_us"] / 1000,
        "p90": result["p90_us"] / 1000,
        "p99": result["p99_us"] / 1000,
        "statuses": result["statuses"],
        "socket_errors": result["socket_errors"],
    }


def measure(label: str, url: str, expect: int, duration: int, **env: str) -> dict[str, object]:
    wrk(url, 8, 2, **env)  # warm-up: every worker, every connection, every cache
    row: dict[str, object] = {"what": label}
    for clients in (1, 16):
        result = wrk(url, clients, duration, **env)
        unexpected = {k: v for k, v in result["statuses"].items() if int(k) != expect}
        if unexpected or result["socket_errors"]:
            row[f"c{clients}_problem"] = (
                f"unexpected {unexpected}, socket errors {result['socket_errors']}"
            )
        row[f"c{clients}"] = result
        print(
            f"  {label}, {clients:>2} client(s): {result['rps']:8.1f} req/s  "
            f"p50 {result['p50']:.2f} ms  p99 {result['p99']:.2f} ms"
            + (f"  !! {row[f'c{clients}_problem']}" if f"c{clients}_problem" in row else ""),
            flush=True,
        )
    return row


def pgbench_ceiling(duration: int) -> dict[str, object]:
    url = fresh_database("airlock_bench_http_pgbench")
    psql(
        "airlock_bench_http_pgbench",
        "CREATE TABLE bench_request (id uuid PRIMARY KEY, action varchar(128),"
        " resource varchar(512), environment varchar(64), status varchar(16),"
        " payload_sha256 char(64),"
        " created_at timestamptz)",
        "CREATE INDEX ON bench_request (created_at)",
        "CREATE TABLE bench_audit (id bigserial PRIMARY KEY, at timestamptz,"
        " event_type varchar(64), actor varchar(300), target varchar(300), data json)",
    )
    output = subprocess.run(
        [
            "pgbench",
            "-n",
            "-c16",
            "-j2",
            f"-T{duration}",
            "-f",
            str(ROOT / "benchmarks" / "pgbench_fastpath.sql"),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tps = next(
        float(line.split("=")[1].split()[0])
        for line in output.splitlines()
        if line.startswith("tps =")
    )
    print(f"  pgbench ceiling, 16 clients: {tps:.0f} tps", flush=True)
    return {
        "what": "PostgreSQL ceiling (pgbench: a request row + an audit row per transaction)",
        "c16": {"rps": tps},
    }


def bare(duration: int, port: int) -> list[dict[str, object]]:
    fresh_database("airlock_bench_http_bare")
    env = {**os.environ, "BARE_DB": "airlock_bench_http_bare", "PYTHONPATH": str(ROOT)}
    rows = []
    url = f"http://127.0.0.1:{port}/q"
    with server(
        [
            str(VENV / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "benchmarks.bare.wsgi",
        ],
        ROOT,
        env,
        port,
    ):
        rows.append(
            measure("bare Django view, one query, gunicorn (WSGI), 2 workers", url, 200, duration)
        )
    uvicorn = [str(VENV / "uvicorn"), "--workers", "2", "--port", str(port)]
    uvicorn += ["--no-access-log", "--log-level", "warning"]
    with server(
        [*uvicorn, "benchmarks.bare.asgi:application"], ROOT, {**env, "BARE_POOL": "1"}, port
    ):
        rows.append(
            measure(
                "bare Django view, one query, uvicorn (ASGI) + psycopg pool, 2 workers",
                url,
                200,
                duration,
            )
        )
    with server([*uvicorn, "benchmarks.bare.bridged:application"], ROOT, env, port):
        rows.append(
            measure(
                "bare Django view, one query, uvicorn + WSGI threads (Airlock's shape), 2 workers",
                url,
                200,
                duration,
            )
        )
    return rows


CALLS = [
    ("GET /healthz", "/healthz", 200, {}),
    (
        "POST /api/v1/actions, allowed at once",
        "/api/v1/actions",
        201,
        {"METHOD": "POST", "BODY": ALLOWED},
    ),
    (
        "POST /api/v1/actions, held for review",
        "/api/v1/actions",
        201,
        {"METHOD": "POST", "BODY": HELD},
    ),
]


@contextmanager
def airlock_server(tree: Path, database: str, port: int) -> Iterator[tuple[str, str]]:
    """Airlock from ``tree`` on a fresh database, served as in production; yields its
    base URL and an agent's token."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + secrets.token_hex(16),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": fresh_database(database),
        "REDIS_URL": REDIS,
        "AIRLOCK_RATE_LIMIT": "100000000/min",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(tree),
    }
    python = str(VENV / "python")

    def manage(*args: str) -> str:
        return subprocess.run(
            [python, "manage.py", *args],
            cwd=tree,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    manage("migrate", "--noinput", "-v0")
    manage("collectstatic", "--noinput", "-v0")
    manage("create_user", "bench-owner@example.com")
    token = manage("create_agent", "bench-bot", "--owner", "bench-owner@example.com").splitlines()[
        -1
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as policy:
        policy.write(POLICY)
    manage("policy_apply", policy.name)
    os.unlink(policy.name)
    # The production shape: where the audit log has a deferred sequencer, its follower
    # runs beside the web server (docker-compose's `sequencer` service).
    follower = None
    if (tree / "audit" / "management" / "commands" / "audit_sequence.py").exists():
        follower = subprocess.Popen(
            [python, "manage.py", "audit_sequence", "--follow"],
            cwd=tree,
            env=env,
            start_new_session=True,
        )
    uvicorn = [python, "-m", "uvicorn", "--workers", "2", "--port", str(port)]
    uvicorn += ["--no-access-log", "--log-level", "warning", "airlock.asgi:application"]
    try:
        with server(uvicorn, tree, env, port):
            yield f"http://127.0.0.1:{port}", token
    finally:
        if follower is not None:
            os.killpg(follower.pid, signal.SIGTERM)
            follower.wait(timeout=30)


def airlocks(
    trees: list[tuple[str, Path, str]], duration: int, port: int, rounds: int
) -> list[dict[str, object]]:
    """Each call against every tree in turn, ``rounds`` times over: on a machine whose
    speed drifts (a shared host), the trees are measured in the same minutes, and each
    cell is the median run (its percentiles are that run's)."""
    rows: list[dict[str, object]] = []
    with ExitStack() as stack:
        served = [
            (label, *stack.enter_context(airlock_server(tree, database, port + i)))
            for i, (label, tree, database) in enumerate(trees)
        ]
        for what, path, expect, call_env in CALLS:
            runs: dict[tuple[str, int], list[dict[str, object]]] = {}
            for _label, base, token in served:
                wrk(f"{base}{path}", 8, 2, TOKEN=token, **call_env)  # warm-up
            for _ in range(rounds):
                for label, base, token in served:
                    for clients in (1, 16):
                        result = wrk(f"{base}{path}", clients, duration, TOKEN=token, **call_env)
                        unexpected = {
                            k: v for k, v in result["statuses"].items() if int(k) != expect
                        }
                        if unexpected or result["socket_errors"]:
                            result["problem"] = (
                                f"unexpected {unexpected}, socket errors {result['socket_errors']}"
                            )
                        runs.setdefault((label, clients), []).append(result)
                        print(
                            f"  {label}: {what}, {clients:>2} client(s): {result['rps']:8.1f} req/s"
                            f"  p50 {result['p50']:.2f} ms  p99 {result['p99']:.2f} ms"
                            + (f"  !! {result['problem']}" if "problem" in result else ""),
                            flush=True,
                        )
            for label, _, _ in served:
                row: dict[str, object] = {"what": f"{label}: {what}"}
                for clients in (1, 16):
                    taken = runs[(label, clients)]
                    median = sorted(taken, key=lambda r: float(r["rps"]))[len(taken) // 2]
                    row[f"c{clients}"] = median
                    row[f"c{clients}_runs"] = [r["rps"] for r in taken]
                    problems = [str(r["problem"]) for r in taken if "problem" in r]
                    if problems:
                        row[f"c{clients}_problem"] = "; ".join(problems)
                rows.append(row)
    return rows


def cell(row: dict[str, object], key: str) -> str:
    result = row.get(key)
    if not isinstance(result, dict):
        return "—"
    text = f"{result['rps']:,.0f} req/s"
    if "p50" in result:
        text += f", p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms"
    if f"{key}_problem" in row:
        text += f" ({row[f'{key}_problem']})"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--base",
        default=os.environ.get("BENCH_BASE", "94ebd05"),
        help="git revision to measure as 'before' ('' to skip)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--port", type=int, default=18830)
    parser.add_argument(
        "--rounds", type=int, default=3, help="Airlock: runs of each call per tree, interleaved"
    )
    parser.add_argument("--only", choices=["ceiling", "bare", "now", "base"], action="append")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt install wrk)", file=sys.stderr)
        return 2
    parts = options.only or ["ceiling", "bare", "now", "base"]
    print(f"machine: {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}")
    rows: list[dict[str, object]] = []
    if "ceiling" in parts:
        rows.append(pgbench_ceiling(options.duration))
    if "bare" in parts:
        rows += bare(options.duration, options.port)
    trees: list[tuple[str, Path, str]] = []
    if "now" in parts:
        trees.append(("Airlock now", ROOT, "airlock_bench_http_now"))
    worktree = None
    if "base" in parts and options.base:
        worktree = Path(tempfile.mkdtemp(prefix="airlock-base-"))
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(worktree), options.base],
            cwd=ROOT,
            check=True,
        )
        trees.append((f"Airlock at {options.base}", worktree, "airlock_bench_http_base"))
    try:
        if trees:
            rows += airlocks(trees, options.duration, options.port, options.rounds)
    finally:
        if worktree is not None:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False
            )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}\n")
    print("| what | 1 client | 16 clients |\n|---|---|---|")
    for row in rows:
        print(f"| {row['what']} | {cell(row, 'c1')} | {cell(row, 'c16')} |")
    now = {
        str(r["what"]).split(": ", 1)[1]: r
        for r in rows
        if str(r["what"]).startswith("Airlock now")
    }
    before = {
        str(r["what"]).split(": ", 1)[1]: r for r in rows if str(r["what"]).startswith("Airlock at")
    }
    if now and before:
        print(
            "\n| Airlock, now ÷ before (median of the rounds' ratios; range) | 1 client "
            "| 16 clients |\n|---|---|---|"
        )
        for what, row in now.items():
            if what in before:
                cells = []
                for key in ("c1", "c16"):
                    ratios = sorted(
                        a / b
                        for a, b in zip(
                            row[f"{key}_runs"],
                            before[what][f"{key}_runs"],
                            strict=True,
                        )
                    )
                    cells.append(
                        f"{ratios[len(ratios) // 2]:.1f}x ({ratios[0]:.1f}-{ratios[-1]:.1f})"
                    )
                print(f"| {what} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
