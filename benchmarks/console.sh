#!/usr/bin/env bash
# benchmarks/console.py against a production-shaped server (PostgreSQL, Redis channel
# layer, uvicorn with 2 workers). Plain http on loopback, so cookies are not Secure.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${BENCH_DB:-airlock_bench_console}
PORT=${BENCH_PORT:-18820}
N=${N:-300}
export SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0
source benchmarks/server.sh
PASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$PASSWORD" | $M create_user bench-reviewer@example.com --groups reviewers --password-stdin
# A screening worker: a third of the queue-page fill carries a payload to screen.
.venv/bin/celery -A airlock worker --concurrency 1 --loglevel WARNING >/dev/null 2>&1 &
WORKER=$!
trap 'kill $WORKER $SERVER 2>/dev/null || true; wait $WORKER $SERVER 2>/dev/null || true' EXIT
echo "machine: $(nproc) cores; server: uvicorn --workers $WORKERS, PostgreSQL, Redis channel layer"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
B=(.venv/bin/python benchmarks/console.py --url "http://127.0.0.1:$PORT" --token "$TOKEN"
  --email bench-reviewer@example.com --password "$PASSWORD")
"${B[@]}" -n 50 | sed "s/^/warm-up: /"
"${B[@]}" -n "$N"
"${B[@]}" -n 0 --queue-size 500 --queue-phase fill
# What autovacuum does after a bulk change (10% of a table): fresh statistics, so the
# planner knows the queue holds hundreds of rows, not one.
psql "$PG/$DB" -qc ANALYZE
"${B[@]}" -n 0 --queue-size 500 --queue-phase time
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
