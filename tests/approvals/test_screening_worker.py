"""A real Celery worker, killed with SIGKILL in the middle of screening a payload: the
request is neither lost nor passed; the sweep hands it to another worker, which
decides it. PostgreSQL and Redis only: it needs a broker and a database that two
processes share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from airlock.celery import app
from approvals.models import ActionRequest
from approvals.services import submit
from approvals.tasks import resume_stuck_screening
from audit.models import AuditEvent
from tests.factories import apply_policy, make_agent, make_person

ROOT = Path(__file__).resolve().parents[2]
POLICY = """
default: {effect: allow}
rules:
  - name: exports-with-pii
    match: {action: data.export, data_classes: [EMAIL_ADDRESS, PERSON]}
    effect: require_approval
    reviewers: [reviewers]
"""

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not (settings.REDIS_URL and connection.vendor == "postgresql"),
        reason="needs PostgreSQL and Redis shared with a worker process",
    ),
]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _start_worker() -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
        "PYTHONPATH": str(ROOT),
        "SCREENING_BUDGET_SECONDS": "120",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "airlock",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _kill(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_screening_does_not_lose_or_pass_the_request(monkeypatch):
    apply_policy(POLICY)
    agent = make_agent(make_person("owner@example.com").user, "etl-bot").agent
    # Enough text to keep a worker busy for seconds, with personal data at the end.
    words = " ".join(f"row {i} shipped to warehouse {i % 7} on schedule" for i in range(5000))
    payload = {"notes": words, "contact": "Please email dana.smith@example.com"}
    # Tasks go to Redis, as in production (the suite otherwise runs them in-process).
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    action = submit(
        actor=agent, data={"action": "data.export", "resource": "db://x", "payload": payload}
    ).action

    first = _start_worker()
    try:
        # The attempt is committed before screening starts: the worker is inside it.
        _wait_for(
            lambda: ActionRequest.objects.get(pk=action.pk).screening_attempts == 1,
            90,
            "the first worker to start screening",
        )
        time.sleep(0.5)
        _kill(first)
    finally:
        _kill(first)
    stuck = ActionRequest.objects.get(pk=action.pk)
    assert stuck.status == "screening"
    assert stuck.screened_at is None
    assert stuck.payload is None
    assert stuck.payload_sealed is not None  # the sealed original survived the crash

    second = _start_worker()
    try:
        # What beat runs every minute, here at once: re-enqueue what is stuck.
        assert resume_stuck_screening(older_than=timedelta(0)) == 1
        _wait_for(
            lambda: ActionRequest.objects.get(pk=action.pk).screened_at is not None,
            120,
            "the second worker to finish",
        )
    finally:
        _kill(second)
    done = ActionRequest.objects.get(pk=action.pk)
    assert done.status == "pending"  # the e-mail address matched the rule
    assert done.policy_rules == ["exports-with-pii"]
    assert done.payload["contact"] == "Please email <EMAIL_ADDRESS>"
    assert done.screening_attempts == 2
    screened = AuditEvent.objects.get(event_type="action.screened", target=action.audit_target)
    assert screened.data["attempt"] == 2
