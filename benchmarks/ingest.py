"""File N actions with C concurrent clients against a running Airlock and print
throughput and latency percentiles.

Starts nothing itself: point it at a server and give it an agent token.

    python benchmarks/ingest.py --url http://127.0.0.1:8000 --token alk_agt_... -n 5000 -c 16

Each client keeps one HTTP/1.1 connection open (as an agent's HTTP library would).
Every response is checked: a non-201 counts as an error and is reported, never
timed as a success.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter

import httpx


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = (len(sorted_values) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def body_for(index: int, payload_bytes: int, action: str = "data.export") -> dict:
    return {
        "action": action,
        "resource": f"postgres://warehouse/table_{index % 50}",
        "environment": "production",
        "payload": {"query": "select id, total from orders", "pad": "x" * payload_bytes},
        "justification": "benchmark",
        "context": {"run_id": f"bench-{index}"},
    }


async def client(
    worker: int,
    url: str,
    token: str,
    queue: asyncio.Queue[int],
    latencies: list[float],
    errors: Counter[str],
    payload_bytes: int,
    action: str,
    expect_status: str | None,
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:
        while True:
            try:
                index = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            content = json.dumps(body_for(index, payload_bytes, action))
            started = time.perf_counter()
            try:
                response = await http.post("/api/v1/actions", content=content)
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - started
            if response.status_code != 201:
                errors[f"HTTP {response.status_code}"] += 1
            elif expect_status and response.json()["status"] != expect_status:
                errors[f"status {response.json()['status']}"] += 1
            else:
                latencies.append(elapsed)


async def run(
    url: str,
    token: str,
    total: int,
    concurrency: int,
    payload_bytes: int,
    action: str = "data.export",
    expect_status: str | None = None,
) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=10) as probe:
        health = (await probe.get("/healthz")).json()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(total):
        queue.put_nowait(index)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    await asyncio.gather(
        *(
            client(
                worker, url, token, queue, latencies, errors, payload_bytes, action, expect_status
            )
            for worker in range(concurrency)
        )
    )
    wall = time.perf_counter() - started
    latencies.sort()
    ms = [value * 1000 for value in latencies]
    return {
        "server": health,
        "requests": total,
        "concurrency": concurrency,
        "payload_pad_bytes": payload_bytes,
        "action": action,
        "ok": len(latencies),
        "errors": dict(errors),
        "seconds": round(wall, 3),
        "requests_per_second": round(len(latencies) / wall, 1) if wall else 0,
        "latency_ms": {
            "mean": round(statistics.fmean(ms), 2) if ms else None,
            "p50": round(percentile(ms, 50), 2),
            "p95": round(percentile(ms, 95), 2),
            "p99": round(percentile(ms, 99), 2),
            "max": round(ms[-1], 2) if ms else None,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="an agent token")
    parser.add_argument("-n", "--requests", type=int, default=2000)
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("--payload-bytes", type=int, default=512, help="padding in each payload")
    parser.add_argument("--action", default="data.export", help="the action to file")
    parser.add_argument(
        "--expect-status",
        help="count an answer with another status (e.g. approved for the fast path) as an error",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    args = parser.parse_args()

    result = asyncio.run(
        run(
            args.url,
            args.token,
            args.requests,
            args.concurrency,
            args.payload_bytes,
            args.action,
            args.expect_status,
        )
    )
    if args.json:
        print(json.dumps(result))
    else:
        lat = result["latency_ms"]
        print(
            f"{result['ok']}/{result['requests']} {result['action']} filed with "
            f"{result['concurrency']} clients "
            f"in {result['seconds']} s: {result['requests_per_second']} requests/s; "
            f"latency ms p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} max {lat['max']}"
        )
        if result["errors"]:
            print(f"errors: {result['errors']}")
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
