"""``?wait=N`` against a real ASGI server: the decision reaches a waiting agent
through the channel layer (in-memory, or Redis when REDIS_URL is set)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.live import running_server

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"action": "schema.alter", "resource": "postgres://prod/orders"}


@pytest.fixture
def server(settings):
    # So slow a re-check that only a notification can answer within 200 ms.
    settings.AIRLOCK = {**settings.AIRLOCK, "WAIT_RECHECK_SECONDS": 10.0}
    with running_server() as url:
        yield url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_long_poll_returns_within_200_ms_of_a_decision(server, requester_agent, reviewer):
    lags = []
    with (
        httpx.Client(base_url=server, timeout=20) as agent,
        httpx.Client(base_url=server, timeout=20) as person,
    ):
        for _ in range(5):
            action_id = agent.post(
                "/api/v1/actions", json=BODY, headers=bearer(requester_agent.token)
            ).json()["id"]
            polled: dict = {}

            def poll(action_id: str = action_id, polled: dict = polled) -> None:
                response = agent.get(
                    f"/api/v1/actions/{action_id}?wait=15", headers=bearer(requester_agent.token)
                )
                polled["at"] = time.monotonic()
                polled["body"] = response.json()

            waiter = threading.Thread(target=poll)
            waiter.start()
            time.sleep(0.3)  # the long-poll is parked on the server
            assert "at" not in polled
            approve = person.post(
                f"/api/v1/actions/{action_id}/approve", json={}, headers=bearer(reviewer.token)
            )
            decided_at = time.monotonic()
            assert approve.status_code == 200
            waiter.join(15)
            assert polled["body"]["status"] == "approved"
            lags.append(polled["at"] - decided_at)
    assert max(lags) < 0.2, lags


def test_post_with_wait_holds_until_decided(server, requester_agent, reviewer):
    with (
        httpx.Client(base_url=server, timeout=20) as agent,
        httpx.Client(base_url=server, timeout=20) as person,
    ):
        result: dict = {}

        def file() -> None:
            response = agent.post(
                "/api/v1/actions?wait=10", json=BODY, headers=bearer(requester_agent.token)
            )
            result["status_code"] = response.status_code
            result["body"] = response.json()

        thread = threading.Thread(target=file)
        thread.start()
        action_id = None
        for _ in range(200):
            listing = person.get("/api/v1/actions", headers=bearer(reviewer.token)).json()
            if listing["results"]:
                action_id = listing["results"][0]["id"]
                break
            time.sleep(0.02)
        assert action_id, "the request never appeared"
        person.post(
            f"/api/v1/actions/{action_id}/deny",
            json={"reason": "no"},
            headers=bearer(reviewer.token),
        )
        thread.join(15)
    assert result["status_code"] == 201
    assert result["body"]["status"] == "denied"


def test_a_wait_that_times_out_returns_the_open_request(server, requester_agent):
    with httpx.Client(base_url=server, timeout=20) as agent:
        started = time.monotonic()
        response = agent.post(
            "/api/v1/actions?wait=1", json=BODY, headers=bearer(requester_agent.token)
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert 1.0 <= elapsed < 3.0


def test_waiting_clients_do_not_block_other_requests(server, requester_agent, reviewer):
    """Ten parked long-polls; a plain read still answers at once."""
    with httpx.Client(base_url=server, timeout=20) as agent:
        action_id = agent.post(
            "/api/v1/actions", json=BODY, headers=bearer(requester_agent.token)
        ).json()["id"]
        waiters = [
            threading.Thread(
                target=lambda: httpx.get(
                    f"{server}/api/v1/actions/{action_id}?wait=3",
                    headers=bearer(requester_agent.token),
                    timeout=10,
                )
            )
            for _ in range(10)
        ]
        for thread in waiters:
            thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        response = agent.get(f"/api/v1/actions/{action_id}", headers=bearer(requester_agent.token))
        elapsed = time.monotonic() - started
        for thread in waiters:
            thread.join(10)
    assert response.status_code == 200
    assert elapsed < 1.0
