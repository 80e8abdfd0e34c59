#!/usr/bin/env bash
# benchmarks/audit.py on a fresh scratch database.
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
DB=airlock_bench_audit
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
DATABASE_URL="$PG/$DB" .venv/bin/python benchmarks/audit.py "$@"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB"
