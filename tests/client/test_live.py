"""The client against a real Airlock server: a reviewer decides from another
connection while the agent waits."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest

from airlock_client import (
    Airlock,
    AsyncAirlock,
    Denied,
    PayloadMismatch,
    StillPending,
    verify_grant,
)
from airlock_client.cli import main
from airlock_client.errors import NotFound, SelfApproval

PAYLOAD = {"query": "select * from customers", "destination": "s3://team-bucket/x.csv"}


def decide_soon(url: str, token: str, verdict: str = "approve", delay: float = 0.5):
    """A reviewer, on a connection of their own, decides the agent's only open request."""
    done: dict = {}

    def run() -> None:
        with Airlock(url, token) as person:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                page = person.list(status="pending")  # the reviewer's queue
                if page["results"]:
                    break
                time.sleep(0.05)
            time.sleep(delay)
            action_id = page["results"][0]["id"]
            if verdict == "approve":
                done["result"] = person.approve(action_id, "ok")
            else:
                done["result"] = person.deny(action_id, "not today")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done


def test_wait_returns_the_request_a_reviewer_approves(airlock_url, requester_agent, reviewer):
    with Airlock(airlock_url, requester_agent.token) as agent:
        filed = agent.submit(
            "data.export", "postgres://warehouse/customers", payload=PAYLOAD, environment="prod"
        )
        assert filed["status"] in ("screening", "pending")
        thread, _ = decide_soon(airlock_url, reviewer.token)
        started = time.monotonic()
        decided = agent.wait(filed["id"], timeout=20)
        thread.join(10)
        assert decided["id"] == filed["id"]
        assert decided["status"] == "approved"
        assert decided["reviews"][0]["reviewer"] == reviewer.user.email
        assert time.monotonic() - started < 10  # the long-poll answered, not the deadline
        assert decided["grant"]  # the server's grant, checked offline by the client
        jwks = agent.jwks()
        claims = verify_grant(decided["grant"], jwks, payload=PAYLOAD)
        assert claims["airlock"]["request_id"] == filed["id"]
        with pytest.raises(PayloadMismatch):
            verify_grant(decided["grant"], jwks, payload={**PAYLOAD, "destination": "s3://x"})


def test_the_requester_cannot_approve_and_errors_are_typed(
    airlock_url, requester_agent, agent_owner
):
    with Airlock(airlock_url, requester_agent.token) as agent:
        filed = agent.submit("data.export", "db://x", payload=PAYLOAD)
        with pytest.raises(NotFound):
            agent.get("0f9a0000-0000-0000-0000-000000000000")
    with Airlock(airlock_url, agent_owner.token) as owner:
        with pytest.raises(SelfApproval) as refused:
            owner.approve(filed["id"])
        assert refused.value.status == 403


def test_wait_returns_the_open_request_at_its_deadline(airlock_url, requester_agent):
    with Airlock(airlock_url, requester_agent.token) as agent:
        filed = agent.submit("data.export", "db://x")
        started = time.monotonic()
        request = agent.wait(filed["id"], timeout=2)
    assert request["status"] == "pending"
    assert 1 <= time.monotonic() - started < 5


class DropFirstPost(httpx.HTTPTransport):
    """A flaky network: the first POST reaches the server, and its answer is lost."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST":
            self.keys.append(request.headers.get("Idempotency-Key"))
            if len(self.keys) == 1:
                response.read()  # the server has answered, and created the request
                response.close()
                raise httpx.ReadError("connection reset by peer", request=request)
        return response


def test_a_dropped_first_post_is_retried_with_the_same_key_and_files_once(
    airlock_url, requester_agent
):
    transport = DropFirstPost()
    with Airlock(
        airlock_url, requester_agent.token, transport=transport, sleep=lambda _: None
    ) as agent:
        filed = agent.submit("data.export", "db://x", payload=PAYLOAD)
        listing = agent.list()["results"]
    assert len(transport.keys) == 2
    assert transport.keys[0] == transport.keys[1]
    assert transport.keys[0]
    assert [r["id"] for r in listing] == [filed["id"]]


def test_the_decorator_runs_the_function_once_approved(airlock_url, requester_agent, reviewer):
    agent = Airlock(airlock_url, requester_agent.token)
    ran: list = []

    @agent.requires_approval(action="data.export", resource=lambda table, **_: f"db://{table}")
    def export(table: str, rows: int = 10, *, grant: str | None = None) -> str:
        ran.append((table, rows, grant))
        return "exported"

    thread, _ = decide_soon(airlock_url, reviewer.token)
    assert export("customers", rows=5) == "exported"
    thread.join(10)
    assert [(t, r) for t, r, _ in ran] == [("customers", 5)]
    [request] = agent.list()["results"]
    assert request["resource"] == "db://customers"
    assert request["payload"] == {"table": "customers", "rows": 5}
    assert request["outcome"]["result"] == "succeeded"
    assert ran[0][2]  # the grant was passed in
    assert ran[0][2] == request["grant"]
    agent.close()


def test_the_decorator_does_not_run_a_denied_call(airlock_url, requester_agent, reviewer):
    agent = Airlock(airlock_url, requester_agent.token)
    ran: list = []

    @agent.requires_approval(action="data.export", resource="db://x", timeout=15)
    def export(table: str) -> None:
        ran.append(table)

    thread, _ = decide_soon(airlock_url, reviewer.token, verdict="deny")
    with pytest.raises(Denied) as denied:
        export("customers")
    thread.join(10)
    assert ran == []
    assert denied.value.request["status"] == "denied"
    agent.close()


def test_the_async_client_and_decorator(airlock_url, requester_agent, reviewer):
    async def scenario() -> tuple[list, dict]:
        async with AsyncAirlock(airlock_url, requester_agent.token) as agent:
            ran: list = []

            @agent.requires_approval(action="data.export", resource="db://x", timeout=15)
            async def export(table: str, grant: str | None = None) -> str:
                ran.append(table)
                return table

            thread, _ = decide_soon(airlock_url, reviewer.token)
            assert await export("orders") == "orders"
            thread.join(10)
            pending = await agent.submit("data.export", "db://y")
            timed_out = await agent.wait(pending["id"], timeout=1)
            return ran, timed_out

    ran, timed_out = asyncio.run(scenario())
    assert ran == ["orders"]
    assert timed_out["status"] == "pending"


def test_the_decorator_raises_still_pending_at_its_deadline(airlock_url, requester_agent):
    with Airlock(airlock_url, requester_agent.token) as agent:

        @agent.requires_approval(action="data.export", resource="db://x", timeout=1)
        def export() -> None:
            raise AssertionError("must not run")

        with pytest.raises(StillPending):
            export()


def test_the_cli_exit_codes(airlock_url, requester_agent, reviewer, monkeypatch, capsys):
    monkeypatch.setenv("AIRLOCK_URL", airlock_url)
    monkeypatch.setenv("AIRLOCK_TOKEN", requester_agent.token)
    assert main(["request", "metrics.read", "grafana://x"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "approved"
    assert main(["request", "schema.drop", "db://x", "--payload", '{"table": "t"}']) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "denied"
    assert main(["request", "data.export", "db://x", "--wait", "1"]) == 3
    held = json.loads(capsys.readouterr().out)
    assert held["status"] == "pending"
    assert main(["status", held["id"]]) == 3
    capsys.readouterr()
    thread, _ = decide_soon(airlock_url, reviewer.token, delay=0.2)
    assert main(["wait", held["id"], "--timeout", "15"]) == 0
    thread.join(10)
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "approved"
    assert requester_agent.token not in out + err
    # Unreachable: an error, never "not approved".
    monkeypatch.setenv("AIRLOCK_URL", "http://127.0.0.1:9")
    assert main(["status", held["id"]]) == 2
    assert requester_agent.token not in capsys.readouterr().err
