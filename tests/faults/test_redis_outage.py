"""Issue 11, item 3: Redis is a cache and a broker, PostgreSQL is the truth.

A server on the suite's PostgreSQL database and a Redis of the test's own (never the
shared one): Redis is stopped under it, agents go on filing (201) and reviewers go
on approving (200), nothing answers 5xx; once Redis is back the screening of what
was filed meanwhile completes through the sweep. Filed = stored = decided, counted.
"""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from approvals import dispatch
from approvals.models import ActionRequest
from audit.models import AuditEvent
from tests.factories import make_agent, make_person
from tests.faults.services import airlock_server, production_env, redis_server

pytestmark = [
    pytest.mark.postgres,
    # The server is another process: it shares the suite's database only on PostgreSQL.
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="a second process shares PostgreSQL only"
    ),
    pytest.mark.timeout(300),
]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _body(n: int, *, payload: bool) -> dict[str, object]:
    body: dict[str, object] = {"action": "data.export", "resource": f"db://warehouse/{n}"}
    if payload:
        body["payload"] = {"rows": n, "table": "customers"}
    return body


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_agents_file_and_reviewers_approve(tmp_path):
    agent = make_agent(make_person("owner@example.com").user, "etl-bot")
    reviewer = make_person("carol@example.com", groups=["reviewers"])
    with redis_server() as redis:
        env = production_env(_database_url(), redis.url)
        env["AIRLOCK_RATE_LIMIT"] = "600/min"  # the limiter stays on, in memory
        # The sweep below screens in this process: it opens what the server sealed.
        env["SECRET_KEY"] = settings.SECRET_KEY
        with airlock_server(env, tmp_path / "server.log") as base:
            as_agent = httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {agent.token}"}, timeout=30
            )
            as_reviewer = httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {reviewer.token}"}, timeout=30
            )
            before = [
                as_agent.post("/api/v1/actions", json=_body(n, payload=False)) for n in range(5)
            ]
            assert [r.status_code for r in before] == [201] * 5
            assert {r.json()["status"] for r in before} == {"pending"}

            redis.stop()
            started = time.monotonic()
            during = [
                as_agent.post("/api/v1/actions", json=_body(10 + n, payload=n % 2 == 1))
                for n in range(20)
            ]
            assert [r.status_code for r in during] == [201] * 20, [r.text[:200] for r in during]
            reviews = [
                as_reviewer.post(f"/api/v1/actions/{r.json()['id']}/approve", json={})
                for r in before
            ]
            reads = [
                as_reviewer.get("/api/v1/actions", params={"status": "pending"}),
                as_agent.get(f"/api/v1/actions/{during[0].json()['id']}", params={"wait": 1}),
                as_agent.get("/healthz"),
            ]
            elapsed = time.monotonic() - started
            assert [r.status_code for r in reviews] == [200] * 5, [r.text[:200] for r in reviews]
            assert {r.json()["status"] for r in reviews} == {"approved"}
            assert [r.status_code for r in reads] == [200, 200, 200]
            assert reads[2].json()["broker"] == "unreachable"
            calls = len(during) + len(reviews) + len(reads)
            print(f"{calls} calls with Redis away in {elapsed:.1f} s, none failed")

            redis.start()
            again = as_agent.post("/api/v1/actions", json=_body(99, payload=False))
            assert again.status_code == 201

    # Filed = stored: every 201 is a row and an audit event.
    filed_ids = {r.json()["id"] for r in [*before, *during, again]}
    assert len(filed_ids) == 26
    assert {str(pk) for pk in ActionRequest.objects.values_list("pk", flat=True)} == filed_ids
    assert AuditEvent.objects.filter(event_type="action.created").count() == 26
    # Decided: the five reviews stand, in the database and the audit log.
    assert ActionRequest.objects.filter(status="approved").count() == 5
    assert AuditEvent.objects.filter(event_type="action.approved").count() == 5
    # The ten payloads filed while the broker was away wait for screening, never
    # passed unscreened. Every side effect the outage refused is in the outbox; the
    # sweep (beat, once Redis is back) hands them on, here at once.
    waiting = list(ActionRequest.objects.filter(status="screening").values_list("pk", flat=True))
    assert len(waiting) == 10
    assert dispatch.undelivered() >= 10
    dispatch.sweep(now=timezone.now() + timedelta(days=1))
    assert dispatch.undelivered() == 0
    screened = ActionRequest.objects.filter(pk__in=waiting)
    assert {a.status for a in screened} == {"pending"}
    assert all(a.screened_at is not None and a.payload is not None for a in screened), [
        a.screening_note for a in screened
    ]
