#!/usr/bin/env bash
# The fast path end to end: filing an action that the 200-rule policy of
# benchmarks/policy_eval.py allows, against filing under the built-in default
# (the foundation's ingest figure), in the same run on the same server.
# Production-shaped: DEBUG off, uvicorn --workers 2, PostgreSQL, Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
DB=airlock_bench_fastpath
PORT=${BENCH_PORT:-18810}
N=${N:-3000}  # for the concurrent runs; the single-client runs file 1000
C=${C:-16}

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
export DEBUG=0 SECRET_KEY="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 DATABASE_URL="$PG/$DB"
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/12} AIRLOCK_RATE_LIMIT=1000000/min LOG_LEVEL=WARNING
M=".venv/bin/python manage.py"
$M migrate --noinput -v0
$M create_user bench-owner@example.com
TOKEN=$($M create_agent bench-bot --owner bench-owner@example.com)

.venv/bin/uvicorn airlock.asgi:application --host 127.0.0.1 --port "$PORT" \
  --workers 2 --log-level warning --no-access-log &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

INGEST=".venv/bin/python benchmarks/ingest.py --url http://127.0.0.1:$PORT --token $TOKEN"
measure() {  # label action expected-status
  echo "$1:"
  $INGEST -n 1000 -c 1 --action "$2" --expect-status "$3"
  $INGEST -n "$N" -c "$C" --action "$2" --expect-status "$3"
}
echo "machine: $(nproc) cores; server: uvicorn --workers 2, PostgreSQL, Redis"
$INGEST -n 1000 -c 8 --action fastpath.hold >/dev/null  # warm-up, both workers
measure "built-in default, held for review (the foundation's ingest path)" fastpath.hold pending

POLICY=$(mktemp --suffix=.yaml)
.venv/bin/python benchmarks/policy_eval.py --write-policy "$POLICY"
echo "policy version $($M policy_apply "$POLICY") active ($(grep -c 'name:' "$POLICY") rules)"
sleep 6  # longer than the active-policy cache's lifetime in every worker
$INGEST -n 1000 -c 8 --action fastpath.read >/dev/null  # warm-up: globs compiled per worker
measure "200-rule policy, allowed at once (the fast path)" fastpath.read approved
measure "200-rule policy, held for review" fastpath.hold pending
