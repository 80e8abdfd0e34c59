#!/usr/bin/env bash
# Start Airlock as production would (DEBUG off, PostgreSQL, Redis, collected static
# files, uvicorn), file an action and approve it over HTTP, then stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
DB_URL=$1
PORT=${SMOKE_PORT:-18765}
export DEBUG=0 SECRET_KEY="smoke-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 DATABASE_URL="$DB_URL" REDIS_URL=redis://127.0.0.1:6379/13
M=".venv/bin/python manage.py"
$M migrate --noinput -v0
$M collectstatic --noinput -v0
suffix=$(date +%s%N)
$M create_user "smoke-owner-$suffix@example.com"
$M create_user "smoke-reviewer-$suffix@example.com" --groups reviewers
AGENT=$($M create_agent "smoke-$suffix" --owner "smoke-owner-$suffix@example.com")
PERSON=$($M create_token "smoke-reviewer-$suffix@example.com")

.venv/bin/uvicorn airlock.asgi:application --host 127.0.0.1 --port "$PORT" --log-level warning &
SERVER=$!
$M audit_sequence --follow &  # the production sequencer (docker-compose's `sequencer`)
SEQUENCER=$!
trap 'kill $SERVER $SEQUENCER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

BASE="http://127.0.0.1:$PORT"
curl -fsS "$BASE/healthz" | grep -q '"broker": "ok"'
curl -fsS "$BASE/api/docs/" | grep -q swagger-ui
curl -fsS "$BASE/accounts/login/" | grep -q "Sign in"
curl -fsS -o /dev/null "$BASE/static/frontend/queue.js"
css=$(curl -fsS "$BASE/api/docs/" | grep -o '/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui\.[^"]*css' | head -n 1)
curl -fsS -o /dev/null "$BASE$css"
ID=$(curl -fsS -X POST "$BASE/api/v1/actions" -H "Authorization: Bearer $AGENT" \
  -H 'Content-Type: application/json' -d '{"action":"smoke.test","resource":"ci://smoke"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -fsS -X POST "$BASE/api/v1/actions/$ID/approve" -H "Authorization: Bearer $PERSON" \
  -H 'Content-Type: application/json' -d '{}' >/dev/null
curl -fsS "$BASE/api/v1/actions/$ID?wait=1" -H "Authorization: Bearer $AGENT" | grep -q '"status":"approved"'
# The request's events were inserted unsequenced and chained by the follower.
for _ in $(seq 1 50); do
  $M audit_sequence --check 2>/dev/null | grep -q "\"unsequenced\": 0," && break; sleep 0.2
done
$M audit_sequence --check
$M audit_verify
echo "smoke test ok: healthz, docs, static files, file and approve over HTTP, audit chained"
