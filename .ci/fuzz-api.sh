#!/usr/bin/env bash
# Schemathesis against the real server (uvicorn, DEBUG off) on PostgreSQL: every
# operation of /api/schema/, as an agent and as a reviewer, rate limit lifted.
# Fails on any server error, any response that breaks the schema, an undocumented
# status code, header or content type. Bounded: a fixed number of examples per
# operation (FUZZ_EXAMPLES) and a time budget per persona (FUZZ_MAX_SECONDS).
#
#   bash .ci/fuzz-api.sh postgres://postgres@127.0.0.1:5432/airlock_fuzz [redis://…]
set -euo pipefail
cd "$(dirname "$0")/.."
DB_URL=$1
REDIS=${2:-}
PORT=${FUZZ_PORT:-18766}
EXAMPLES=${FUZZ_EXAMPLES:-20}
MAX_SECONDS=${FUZZ_MAX_SECONDS:-75}
OUT=${FUZZ_OUT:-var/fuzz}
mkdir -p "$OUT"

export DEBUG=0 SECRET_KEY="fuzz-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 DATABASE_URL="$DB_URL"
export AIRLOCK_RATE_LIMIT=10000000/min
if [ -n "$REDIS" ]; then export REDIS_URL="$REDIS"; else unset REDIS_URL; fi
PY=${PYTHON:-.venv/bin/python}
M="$PY manage.py"
$M migrate --noinput -v0
suffix=$(date +%s%N)
$M create_user "fuzz-owner-$suffix@example.com"
$M create_user "fuzz-reviewer-$suffix@example.com" --groups reviewers
AGENT=$($M create_agent "fuzz-$suffix" --owner "fuzz-owner-$suffix@example.com")
REVIEWER=$($M create_token "fuzz-reviewer-$suffix@example.com")

$PY -m uvicorn airlock.asgi:application --host 127.0.0.1 --port "$PORT" --log-level warning \
  >"$OUT/server.log" 2>&1 &
SERVER=$!
$M audit_sequence --follow >"$OUT/sequencer.log" 2>&1 &  # the production shape
SEQUENCER=$!
trap 'kill $SERVER $SEQUENCER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
BASE="http://127.0.0.1:$PORT"

# One worker: with two threads, Hypothesis parses lambda sources concurrently and
# CPython 3.11's ast module fails ("AST constructor recursion depth mismatch").
# Requests that exist, so that approve, deny, cancel and outcome reach past the 404:
# most generated ids are taken from these (the rest stay random).
ids=()
for n in 1 2 3 4; do
  ids+=("$(curl -fsS -X POST "$BASE/api/v1/actions" -H "Authorization: Bearer $AGENT" \
    -H 'Content-Type: application/json' -d "{\"action\":\"fuzz.seed\",\"resource\":\"ci://fuzz/$n\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')")
done
# ?wait holds a response up to 30 s; its bounds are unit-tested, here it is 0.
cat >"$OUT/schemathesis.toml" <<TOML
[parameters]
"query.wait" = 0
"path.action_id" = { dictionary = "actions", probability = 0.7 }

[dictionaries.actions]
values = [$(printf '"%s",' "${ids[@]}" | sed 's/,$//')]
TOML

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance
CHECKS=$CHECKS,response_headers_conformance,response_schema_conformance
status=0
for who in agent reviewer; do
  if [ "$who" = agent ]; then token=$AGENT; else token=$REVIEWER; fi
  echo "--- schemathesis as the $who ---"
  .venv/bin/schemathesis --config-file "$OUT/schemathesis.toml" run "$BASE/api/schema/" ${FUZZ_ARGS:-} \
    --header "Authorization: Bearer $token" \
    --checks "$CHECKS" \
    --phases examples,coverage,fuzzing \
    --max-examples "$EXAMPLES" --max-time "$MAX_SECONDS" \
    --seed 11 --generation-database none \
    --workers 1 --request-timeout 40 --no-color \
    --report junit --report-junit-path "$OUT/schemathesis-$who.xml" || status=1
done
if grep -E "Traceback|Internal Server Error" "$OUT/server.log" >/dev/null; then
  echo "the server logged errors:"; grep -E -A3 "Traceback|Internal Server Error" "$OUT/server.log" | head -50
  status=1
fi
exit $status
