#!/usr/bin/env bash
# benchmarks/audit.py on a fresh scratch database, after the pgbench ceiling:
#   bash benchmarks/audit.sh --appends 4000 --verify-events 1000000
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
DB=${BENCH_DB:-airlock_auditseq_bench}
SECONDS_EACH=${BENCH_PGBENCH_SECONDS:-10}
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
export DATABASE_URL="$PG/$DB"
.venv/bin/python benchmarks/audit.py --migrate-only
psql "$DATABASE_URL" -q <<'SQL'
CREATE TABLE bench_request (id bigserial PRIMARY KEY, agent text, action text, resource text,
    payload_sha256 text, status text, created_at timestamptz);
CREATE INDEX ON bench_request (created_at);
CREATE TABLE bench_head (id int PRIMARY KEY, seq bigint, chain_hash text);
INSERT INTO bench_head VALUES (1, 0, '');
-- The old events table: seq primary key, unique prev/chain hashes, the same indexes.
CREATE TABLE bench_plain_event (seq bigserial PRIMARY KEY, at timestamptz, event_type text,
    actor text, target text, data jsonb, canonical text, leaf_hash text,
    prev_hash text, chain_hash text);
CREATE INDEX ON bench_plain_event (at); CREATE INDEX ON bench_plain_event (event_type);
CREATE INDEX ON bench_plain_event (actor); CREATE INDEX ON bench_plain_event (target);
CREATE UNIQUE INDEX ON bench_plain_event (prev_hash); CREATE UNIQUE INDEX ON bench_plain_event (chain_hash);
SQL
echo "pgbench ceiling, ${SECONDS_EACH} s each (one request row + one audit row per transaction):"
for clients in 1 16; do
  for script in audit_pgbench audit_pgbench_headlock; do
    tps=$(pgbench -n -c "$clients" -j $(( clients < 2 ? clients : 2 )) -T "$SECONDS_EACH" -f "benchmarks/$script.sql" "$DATABASE_URL" 2>/dev/null \
      | awk '/^tps/ {print $3}')
    printf '  %2d clients  %-24s %8.0f tps\n' "$clients" "$script" "$tps"
  done
done
.venv/bin/python benchmarks/audit.py "$@"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB"
