"""Personas and API helpers shared by the whole suite."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import AgentIdentity, PersonIdentity, make_agent, make_person


class Api:
    """A JSON client holding one principal's bearer token."""

    def __init__(self, token: str | None):
        self.client = APIClient()
        if token:
            self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
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


@pytest.fixture(autouse=True)
def _fresh_shared_cache():
    """The process-wide cache outlives a test's database transaction: the active
    policy and rate-limit counters must not leak from one test into the next."""
    from airlock.cache import shared_cache

    shared_cache().clear()
    yield
    shared_cache().clear()


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
