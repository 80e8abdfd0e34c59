"""Personas and API helpers shared by the whole suite."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import TestCase
from rest_framework.test import APIClient

from tests.factories import AgentIdentity, PersonIdentity, make_agent, make_person


class Api:
    """A JSON client holding one principal's bearer token."""

    def __init__(self, token: str | None):
        self.client = APIClient()
        if token:
            self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
        # What a commit would set off (the screening task, broadcasts) runs as in
        # production, after the request's transaction, before the next call.
        with TestCase.captureOnCommitCallbacks(execute=True):
            return self.client.post(path, body, format="json", **extra)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params)

    def file(self, body: dict[str, Any] | None = None, **extra: Any) -> Any:
        body = body if body is not None else {"action": "data.export", "resource": "db://x"}
        return self.post("/api/v1/actions", body, **extra)

    def approve(self, action_id: str, comment: str = "") -> Any:
        return self.post(f"/api/v1/actions/{action_id}/approve", {"comment": comment})

    def deny(self, action_id: str, reason: str = "no") -> Any:
        return self.post(f"/api/v1/actions/{action_id}/deny", {"reason": reason})


def racing_retries(token: str, body: dict[str, Any], key: str, n: int = 8) -> list[tuple[int, str]]:
    """``n`` threads file ``body`` with one Idempotency-Key at the same moment, each on
    its own connection; their (status, id) answers."""
    barrier = threading.Barrier(n)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def retry() -> None:
        try:
            api = Api(token)
            barrier.wait()
            response = api.file(body, HTTP_IDEMPOTENCY_KEY=key)
            with lock:
                results.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture(autouse=True)
def _no_remembered_dispatch_failures():
    """A consumer's failure in one test must not make the next test's hand-offs wait."""
    from approvals import dispatch

    dispatch._failed_at.clear()
    yield
    dispatch._failed_at.clear()


@pytest.fixture(autouse=True)
def _fresh_shared_cache():
    """The process-wide cache outlives a test's database transaction: the active
    policy and rate-limit counters must not leak from one test into the next."""
    from airlock.cache import shared_cache

    shared_cache().clear()
    yield
    shared_cache().clear()


AUDIT_TABLES = ("audit_auditevent", "audit_checkpoint", "audit_chainhead")


def _on_postgres() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"] in (
        "django.db.backends.postgresql",
        "airlock.postgresql",
    )


def _audit_triggers(state: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {table} {state} TRIGGER USER")


@pytest.fixture(autouse=True)
def _append_only_audit_between_flushes(request):
    """On PostgreSQL the audit tables refuse TRUNCATE, and a transactional test ends
    with Django flushing every table by TRUNCATE. So: triggers on while every test
    runs, off only for that flush (this fixture's teardown runs just before it)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    )
    uses_db = transactional or marker is not None or "db" in request.fixturenames
    if not uses_db or not _on_postgres():
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    _audit_triggers("ENABLE")
    yield
    if transactional:
        _audit_triggers("DISABLE")


@pytest.fixture
def agent_owner(db: None) -> PersonIdentity:
    return make_person("owner@example.com", groups=["reviewers"])


@pytest.fixture
def requester_agent(agent_owner: PersonIdentity) -> AgentIdentity:
    return make_agent(agent_owner.user, name="etl-bot")


@pytest.fixture
def reviewer(db: None) -> PersonIdentity:
    return make_person("carol@example.com", groups=["reviewers"])


@pytest.fixture
def second_reviewer(db: None) -> PersonIdentity:
    return make_person("dave@example.com", groups=["reviewers", "privacy"])


@pytest.fixture
def outsider(db: None) -> PersonIdentity:
    return make_person("mallory@example.com", groups=["marketing"])


@pytest.fixture
def auditor(db: None) -> PersonIdentity:
    return make_person("audrey@example.com", groups=["airlock-auditors"])


@pytest.fixture
def api_as():
    return Api


@pytest.fixture
def agent_api(requester_agent: AgentIdentity) -> Api:
    return Api(requester_agent.token)
