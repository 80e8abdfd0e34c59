# Sourced by the HTTP benchmarks: a fresh PostgreSQL database $DB, a production-shaped
# Airlock (DEBUG off, Redis, uvicorn with $WORKERS processes) on $PORT, an agent whose
# token is in $TOKEN, and a trap that stops the server.
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
WORKERS=${WORKERS:-2}
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
export DEBUG=0 SECRET_KEY="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 DATABASE_URL="$PG/$DB"
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/12} AIRLOCK_RATE_LIMIT=1000000/min LOG_LEVEL=WARNING
M=".venv/bin/python manage.py"
$M migrate --noinput -v0
$M collectstatic --noinput -v0
$M create_user bench-owner@example.com
TOKEN=$($M create_agent bench-bot --owner bench-owner@example.com)

.venv/bin/uvicorn airlock.asgi:application --host 127.0.0.1 --port "$PORT" \
  --workers "$WORKERS" --log-level warning --no-access-log &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
INGEST=".venv/bin/python benchmarks/ingest.py --url http://127.0.0.1:$PORT --token $TOKEN"
