"""A real Airlock (uvicorn in a thread, on the test database) for the client's tests."""

from __future__ import annotations

import pytest

from tests.factories import apply_policy
from tests.live import running_server

POLICY = """
default:
  effect: require_approval
  approvals: 1
  reviewers: [reviewers]
  timeout: 1h
rules:
  - name: reads-are-self-service
    match: {action: ["*.read", "tool.read", "tool.mcp.files.read_file"]}
    effect: allow
  - name: no-drops
    match: {action: ["schema.drop", "tool.mcp.warehouse.drop_table"]}
    effect: deny
    message: dropping tables is never allowed
"""


@pytest.fixture
def airlock_url(transactional_db):
    apply_policy(POLICY)
    with running_server() as url:
        yield url
