#!/usr/bin/env bash
# The fast path end to end: filing an action that the 200-rule policy of
# benchmarks/policy_eval.py allows, against filing under the built-in default
# (the foundation's ingest figure), in the same run on the same server.
# Production-shaped: DEBUG off, uvicorn --workers 2, PostgreSQL, Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=airlock_bench_fastpath
PORT=${BENCH_PORT:-18810}
N=${N:-3000}  # for the concurrent runs; the single-client runs file 1000
C=${C:-16}
source benchmarks/server.sh

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
