"""Shared set-up for the grants tests: a policy whose approvals issue grants, and
helpers that file, approve and read a request's grant as its agent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.factories import apply_policy, make_agent

GRANT_POLICY = """
rules:
  - name: exports-need-approval
    match: {action: data.export}
    effect: require_approval
    approvals: 1
    reviewers: [reviewers]
    timeout: 1h
    grant_ttl: 10m
    grant: {audience: warehouse-executor}
  - name: reads-are-self-service
    match: {action: "*.read"}
    effect: allow
"""

# Integers only: nothing to screen, so no worker (and no Presidio) is involved.
PAYLOAD = {"limit": 100, "ids": [1, 2, 3]}


@pytest.fixture
def grant_policy(db: None) -> None:
    apply_policy(GRANT_POLICY)


@pytest.fixture
def executor(agent_owner):
    return make_agent(agent_owner.user, name="warehouse-executor")


@pytest.fixture
def executor_api(executor) -> Api:
    return Api(executor.token)


def approved_grant(agent_api: Api, reviewer_api: Api, **body: Any) -> tuple[str, str]:
    """File a data.export, approve it, and read the grant as the requesting agent."""
    filed = agent_api.file(
        {"action": "data.export", "resource": "postgres://warehouse/customers", **body}
    )
    assert filed.status_code == 201, filed.json()
    action_id = filed.json()["id"]
    assert filed.json()["grant"] is None  # pending: nothing to hand out yet
    approved = reviewer_api.approve(action_id)
    assert approved.status_code == 200, approved.json()
    assert approved.json()["grant"] is None  # the reviewer never sees it
    token = agent_api.get(f"/api/v1/actions/{action_id}").json()["grant"]
    assert token
    assert token.count(".") == 2
    return action_id, token


def redeem(api: Api, token: str, **body: Any) -> Any:
    return api.post("/api/v1/grants/redeem", {"grant": token, **body})
