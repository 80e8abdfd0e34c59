#!/usr/bin/env bash
# `make bench`: a fresh PostgreSQL database, a production-shaped server (DEBUG off,
# uvicorn with WORKERS processes, Redis channel layer), then benchmarks/ingest.py at
# several concurrencies. Prints the figures that go into docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=airlock_bench
PORT=${BENCH_PORT:-18800}
N=${N:-4000}
source benchmarks/server.sh

echo "machine: $(nproc) cores; server: uvicorn --workers $WORKERS, PostgreSQL, Redis; policy: built-in default"
$INGEST -n 500 -c 4 >/dev/null  # warm-up
for C in 1 4 16 64; do
  $INGEST -n "$N" -c "$C"
done
