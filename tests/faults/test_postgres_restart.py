"""Issue 11, item 4: PostgreSQL restarted under a running server.

A cluster of the test's own (never the shared one) is stopped with every connection
terminated, as an operator's restart or a failover does. While it is away the API
answers 503 with Retry-After; once it accepts connections again no request fails:
stale pooled connections are checked on checkout and replaced.
"""

from __future__ import annotations

import time

import httpx
import pytest
from django.db import connection

from tests.faults.services import (
    airlock_server,
    make_principals,
    manage,
    postgres_bin,
    postgres_cluster,
    production_env,
    wait_for,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL's server binaries are missing"),
    # The cluster is the test's own, so one run is enough: the suite's PostgreSQL run.
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="runs in the suite's PostgreSQL run"
    ),
    pytest.mark.timeout(300),
]


def _file(client: httpx.Client, n: int) -> httpx.Response:
    return client.post(
        "/api/v1/actions", json={"action": "cluster.restart", "resource": f"k8s://prod/{n}"}
    )


def test_a_postgresql_restart_gives_503_while_away_and_no_500_after(tmp_path):
    with postgres_cluster() as pg:
        pg.create_database("airlock")
        env = production_env(pg.url)
        env.update(DB_POOL_MIN_SIZE="4", DB_POOL_TIMEOUT="2")
        manage(env, "migrate", "--noinput", "-v0")
        tokens = make_principals(env)
        with airlock_server(env, tmp_path / "server.log") as base:
            agent = httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {tokens['agent']}"}, timeout=30
            )
            reviewer = httpx.Client(
                base_url=base,
                headers={"Authorization": f"Bearer {tokens['reviewer']}"},
                timeout=30,
            )
            # Warm: the pool now holds connections that the restart will kill.
            warm = [_file(agent, n) for n in range(8)]
            assert [r.status_code for r in warm] == [201] * 8
            filed = [r.json()["id"] for r in warm]

            pg.stop()
            away = [_file(agent, 100), reviewer.get("/api/v1/actions"), agent.get("/healthz")]
            for response in away:
                assert response.status_code == 503, response.text
                assert int(response.headers["Retry-After"]) > 0
            assert away[0].json()["error"]["code"] == "service_unavailable"

            pg.start()
            wait_for(pg.accepts_connections, 30, "PostgreSQL to accept connections")
            started = time.monotonic()
            after = [_file(agent, 200 + n) for n in range(10)]
            after += [reviewer.post(f"/api/v1/actions/{i}/approve", json={}) for i in filed]
            after += [reviewer.get("/api/v1/actions"), agent.get(f"/api/v1/actions/{filed[0]}")]
            elapsed = time.monotonic() - started
            codes = [r.status_code for r in after]
            assert codes == [201] * 10 + [200] * len(filed) + [200, 200], [
                r.text[:200] for r in after if r.status_code >= 300
            ]
            print(f"{len(after)} requests after the restart in {elapsed:.2f} s, none failed")

            # Filed = stored = decided, counted: 18 filings, 8 approved.
            listed = reviewer.get("/api/v1/actions", params={"limit": 200}).json()["results"]
            assert len(listed) == 18
            assert sum(1 for a in listed if a["status"] == "approved") == len(filed)
