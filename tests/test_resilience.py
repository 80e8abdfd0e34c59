"""Issue 11, item 3, in-process: the cache and the rate limiter while Redis is away.

The fault tests in tests/faults/ stop a real Redis under a real server; these pin
the pieces: an unreachable Redis is a miss, and the limiter keeps limiting from
memory instead of failing every request or letting every request through.
"""

from __future__ import annotations

import time

import pytest

from airlock import cache as cache_module
from airlock.cache import ResilientRedisCache, cache_available

NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def redis_away(monkeypatch):
    away = ResilientRedisCache(
        NOWHERE, {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}
    )
    monkeypatch.setattr(cache_module, "_backend", away)
    return away


def test_an_unreachable_redis_is_a_miss_not_an_error(redis_away):
    assert redis_away.get("k", "default") == "default"
    assert not cache_available(redis_away)
    redis_away.set("k", "v")  # dropped, not raised
    assert redis_away.add("k", "v") is False
    assert redis_away.delete("k") is False
    assert redis_away.get_many(["a", "b"]) == {}
    redis_away.clear()


def test_after_a_failure_redis_is_skipped_for_a_while(redis_away, monkeypatch):
    redis_away.get("k")
    calls = []
    monkeypatch.setattr(
        type(redis_away).__mro__[1], "get", lambda *a, **k: calls.append(a) or "from redis"
    )
    assert redis_away.get("k", "miss") == "miss"  # skipped: no connection attempt
    assert calls == []
    redis_away._down_until = time.monotonic() - 1  # the retry interval has passed
    assert redis_away.get("k", "miss") == "from redis"


@pytest.mark.django_db
def test_with_redis_away_the_api_answers_and_still_rate_limits(agent_api, redis_away, monkeypatch):
    from airlock.api import PrincipalRateThrottle

    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "3/min"})
    codes = [agent_api.get("/api/v1/actions").status_code for _ in range(5)]
    # The first call finds Redis away (a miss, uncounted); from then on the budget
    # is kept in this process's memory.
    assert codes[:3] == [200, 200, 200]
    assert codes[-1] == 429
    assert 500 not in codes


@pytest.mark.django_db
def test_with_redis_away_filing_and_the_active_policy_work(agent_api, reviewer, redis_away):
    from tests.conftest import Api
    from tests.factories import apply_policy

    apply_policy("default: {effect: require_approval, approvals: 1, reviewers: [reviewers]}")
    filed = agent_api.file({"action": "data.export", "resource": "db://x"})
    assert filed.status_code == 201, filed.content
    assert filed.json()["policy"]["version"] == 1
    approved = Api(reviewer.token).approve(filed.json()["id"])
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
