"""airlock.cache.read_along: the active policy's pointer rides along with the rate
limiter's round trip. A filing then makes one Redis call, not two; what it reads is
what Redis holds; a write forgets it; the next request reads afresh."""

from __future__ import annotations

import textwrap

import pytest
import redis
from django.core.signals import request_started

from airlock.cache import ResilientRedisCache, keep_read_along, riders, shared_cache
from tests.factories import apply_policy

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not isinstance(shared_cache(), ResilientRedisCache), reason="rides along with Redis"
    ),
]

POLICY = textwrap.dedent(
    """
    default: {effect: require_approval, approvals: 1, reviewers: [reviewers], timeout: 1h}
    rules:
      - name: reads-are-self-service
        match: {action: ["*.read"]}
        effect: allow
    """
)
ALLOWED = {"action": "orders.read", "resource": "db://orders"}


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """The commands this process sends to Redis, by name: redis-py's own connection,
    watched, not replaced (commands a script runs inside Redis are not sent)."""
    names: list[str] = []
    send = redis.connection.AbstractConnection.send_command

    def watched(self, *args, **kwargs):
        names.append(str(args[0]).upper())
        return send(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_command", watched)
    return names


def test_the_active_policy_is_a_rider():
    assert "airlock:policy:active" in riders()


def test_an_allowed_filing_reads_the_policy_in_the_rate_limits_round_trip(agent_api, sent):
    apply_policy(POLICY)
    assert agent_api.file(ALLOWED).status_code == 201  # the pointer is cached now
    sent.clear()
    filed = agent_api.file(ALLOWED)
    assert filed.status_code == 201
    assert filed.json()["status"] == "approved"
    assert filed.json()["policy"]["version"] == 1
    assert sent == ["EVALSHA"]  # the rate limit, with the policy's pointer read along


def test_a_key_missing_from_redis_is_read_from_the_database_and_cached(agent_api, sent):
    apply_policy(POLICY)
    shared_cache().delete("airlock:policy:active")
    sent.clear()
    filed = agent_api.file(ALLOWED)
    assert filed.json()["policy"]["version"] == 1
    # Read as missing with the rate limit, so no GET: the database, then cached.
    assert sent == ["EVALSHA", "SET"]
    version, sha256 = shared_cache().get("airlock:policy:active")
    assert version == 1
    assert len(sha256) == 64


def test_within_a_request_a_write_or_delete_forgets_the_value_read_along():
    cache = shared_cache()
    assert isinstance(cache, ResilientRedisCache)
    request_started.send(sender=None)
    cache.set("rider-test", "in redis")
    # As the rate limiter keeps what its script read: raw bytes, as Redis stored them.
    raw = cache._cache.get_client(write=True).get(cache.make_key("rider-test"))
    keep_read_along({"rider-test": raw, "missing-test": None})
    assert cache.get("rider-test") == "in redis"
    assert cache.get("missing-test", "default") == "default"
    cache._cache.get_client(write=True).set(cache.make_key("rider-test"), b"changed behind")
    assert cache.get("rider-test") == "in redis"  # read along: no round trip
    cache.set("rider-test", "written")
    assert cache.get("rider-test") == "written"  # this request's own write
    keep_read_along({"rider-test": raw})
    cache.delete("rider-test")
    assert cache.get("rider-test") is None


def test_the_next_request_reads_afresh():
    cache = shared_cache()
    cache.set("rider-test", "now")
    keep_read_along({"rider-test": None})
    assert cache.get("rider-test") is None  # this request read it as missing
    request_started.send(sender=None)
    assert cache.get("rider-test") == "now"


def test_an_activation_counts_from_the_next_request(agent_api):
    apply_policy(POLICY)
    assert agent_api.file(ALLOWED).json()["status"] == "approved"
    apply_policy(POLICY.replace("effect: allow", "effect: deny\n    message: no reads today"))
    denied = agent_api.file(ALLOWED).json()
    assert denied["status"] == "denied"
    assert denied["policy"]["version"] == 2
