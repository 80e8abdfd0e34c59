"""``airlock mcp serve`` and ``airlock mcp gateway`` driven by the MCP SDK's own client,
in process, against a real Airlock and a small upstream MCP server started here."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

mcp = pytest.importorskip("mcp", reason="the [mcp] extra is a dev dependency")

from mcp import Client  # noqa: E402
from mcp.server.mcpserver import MCPServer  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from airlock_client import Airlock, AsyncAirlock  # noqa: E402
from airlock_client.mcp_gateway import PENDING_META, GatewayConfig, build_gateway  # noqa: E402
from airlock_client.mcp_server import build_server  # noqa: E402


class Dropped(BaseModel):
    table: str
    cascade: bool


def upstream_server(calls: list) -> MCPServer:
    """The server being wrapped: it records every call that reaches it."""
    upstream = MCPServer("warehouse")

    @upstream.tool()
    def drop_table(table: str, cascade: bool = False) -> Dropped:
        """Drop a table."""
        calls.append(("drop_table", {"table": table, "cascade": cascade}))
        return Dropped(table=table, cascade=cascade)

    @upstream.tool()
    def export(table: str, destination: str) -> str:
        """Export a table."""
        calls.append(("export", {"table": table, "destination": destination}))
        return f"exported {table} to {destination}"

    @upstream.tool()
    def row_count(table: str) -> int:
        """Count rows."""
        calls.append(("row_count", {"table": table}))
        return 42

    return upstream


CONFIG = GatewayConfig.load(
    {
        "server": "warehouse",
        "gated": {
            "export": {"action": "data.export", "resource": "postgres://warehouse"},
            "drop_table": {"action": "schema.drop", "resource": "postgres://warehouse"},
        },
    }
)


def approve_when_pending(url: str, token: str, action_id: str) -> None:
    with Airlock(url, token) as person:
        deadline = time.monotonic() + 10
        while person.get(action_id)["status"] == "screening":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        person.approve(action_id)


def text(result) -> str:
    return " ".join(block.text for block in result.content if hasattr(block, "text"))


def test_the_gateway_runs_a_gated_tool_only_once_approved_with_the_approved_arguments(
    airlock_url, requester_agent, reviewer
):
    calls: list = []

    async def scenario() -> dict:
        seen: dict = {}
        async with (
            AsyncAirlock(airlock_url, requester_agent.token) as airlock,
            Client(upstream_server(calls)) as upstream,
        ):
            gateway = build_gateway(airlock, upstream, CONFIG, session="s1", max_wait=1)
            async with Client(gateway) as agent:
                tools = {t.name: t for t in (await agent.list_tools()).tools}
                seen["tools"] = tools
                # Not gated: straight through.
                seen["count"] = await agent.call_tool("row_count", {"table": "orders"})
                args = {"table": "customers", "destination": "s3://team-bucket/x.csv"}
                held = await agent.call_tool("export", args)
                seen["held"] = held
                seen["calls_while_held"] = list(calls)
                request_id = held.meta[PENDING_META]["request_id"]
                # Other arguments are another request, also held.
                other = await agent.call_tool("export", {**args, "destination": "s3://evil/x"})
                seen["other"] = other
                await asyncio.to_thread(
                    approve_when_pending, airlock_url, reviewer.token, request_id
                )
                seen["ran"] = await agent.call_tool("export", args)
                seen["request"] = await airlock.get(request_id)
                # Policy denies drops: an error result, never upstream.
                seen["denied"] = await agent.call_tool("drop_table", {"table": "orders"})
                seen["listing"] = await airlock.list()
        return seen

    seen = asyncio.run(scenario())
    tools = seen["tools"]
    assert set(tools) == {"drop_table", "export", "row_count"}
    assert tools["drop_table"].output_schema is None  # stripped: gated
    assert "Airlock" in tools["export"].description
    assert tools["row_count"].output_schema is not None  # untouched
    assert not seen["count"].is_error

    held = seen["held"]
    assert not held.is_error
    assert "Held for approval in Airlock as" in text(held)
    assert held.meta[PENDING_META]["url"].endswith(
        f"/actions/{held.meta[PENDING_META]['request_id']}/"
    )
    assert seen["calls_while_held"] == [("row_count", {"table": "orders"})]
    assert "Held for approval" in text(seen["other"])
    assert seen["other"].meta[PENDING_META]["request_id"] != held.meta[PENDING_META]["request_id"]

    assert not seen["ran"].is_error
    assert "exported customers to s3://team-bucket/x.csv" in text(seen["ran"])
    export_calls = [c for c in calls if c[0] == "export"]
    assert export_calls == [
        ("export", {"table": "customers", "destination": "s3://team-bucket/x.csv"})
    ]
    assert seen["request"]["status"] == "approved"
    assert seen["request"]["outcome"]["result"] == "succeeded"

    assert seen["denied"].is_error
    assert "denied" in text(seen["denied"])
    assert not [c for c in calls if c[0] == "drop_table"]
    assert len(seen["listing"]["results"]) == 3


def test_an_approval_runs_one_call_only(airlock_url, requester_agent, reviewer):
    calls: list = []

    async def scenario() -> tuple:
        async with (
            AsyncAirlock(airlock_url, requester_agent.token) as airlock,
            Client(upstream_server(calls)) as upstream,
        ):
            gateway = build_gateway(airlock, upstream, CONFIG, max_wait=1)
            async with Client(gateway) as agent:
                args = {"table": "t", "destination": "s3://b/t.csv"}
                held = await agent.call_tool("export", args)
                first = held.meta[PENDING_META]["request_id"]
                await asyncio.to_thread(approve_when_pending, airlock_url, reviewer.token, first)
                await agent.call_tool("export", args)
                again = await agent.call_tool("export", args)
                return first, again

    first, again = asyncio.run(scenario())
    assert len([c for c in calls if c[0] == "export"]) == 1
    assert again.meta[PENDING_META]["request_id"] != first


def test_the_approval_server_tools(airlock_url, requester_agent, reviewer):
    async def scenario() -> dict:
        seen: dict = {}
        async with AsyncAirlock(airlock_url, requester_agent.token) as airlock:
            server = build_server(airlock, max_wait=1)
            async with Client(server) as agent:
                seen["tools"] = sorted(t.name for t in (await agent.list_tools()).tools)
                allowed = await agent.call_tool(
                    "request_approval", {"action": "metrics.read", "resource": "grafana://x"}
                )
                seen["allowed"] = allowed.structured_content
                filed = await agent.call_tool(
                    "request_approval",
                    {
                        "action": "data.export",
                        "resource": "db://x",
                        "payload": {"table": "t"},
                        "idempotency_key": "k-1",
                    },
                )
                seen["filed"] = filed.structured_content
                rid = seen["filed"]["request_id"]
                again = await agent.call_tool(
                    "request_approval",
                    {
                        "action": "data.export",
                        "resource": "db://x",
                        "payload": {"table": "t"},
                        "idempotency_key": "k-1",
                    },
                )
                seen["again"] = again.structured_content
                started = time.monotonic()
                waited = await agent.call_tool(
                    "wait_for_decision", {"request_id": rid, "timeout_s": 600}
                )
                seen["waited_for"] = time.monotonic() - started
                seen["waited"] = waited.structured_content
                thread = threading.Thread(
                    target=approve_when_pending, args=(airlock_url, reviewer.token, rid)
                )
                thread.start()
                server_wait = build_server(airlock, max_wait=10)
                async with Client(server_wait) as patient:
                    decided = await patient.call_tool("wait_for_decision", {"request_id": rid})
                thread.join(10)
                seen["decided"] = decided.structured_content
                seen["got"] = (
                    await agent.call_tool("get_decision", {"request_id": rid})
                ).structured_content
        return seen

    seen = asyncio.run(scenario())
    assert seen["tools"] == ["get_decision", "request_approval", "wait_for_decision"]
    assert seen["allowed"]["status"] == "approved"
    assert seen["allowed"]["timed_out"] is False
    assert seen["filed"]["timed_out"] is True
    assert seen["filed"]["url"].endswith(f"/actions/{seen['filed']['request_id']}/")
    assert seen["again"]["request_id"] == seen["filed"]["request_id"]
    assert seen["waited"]["timed_out"] is True
    assert seen["waited_for"] < 5  # bounded by the server, whatever the caller asked
    assert seen["decided"]["status"] == "approved"
    assert seen["got"]["status"] == "approved"


def test_the_gateway_command_over_stdio(airlock_url, requester_agent, reviewer, tmp_path):
    """``airlock mcp gateway --config … -- <upstream>`` as an MCP client starts it: a
    process speaking stdio, wrapping an upstream process."""
    import json
    import os
    import sys
    from pathlib import Path

    from mcp import StdioServerParameters

    calls = tmp_path / "calls.jsonl"
    calls.touch()
    config = tmp_path / "gates.json"
    config.write_text(
        json.dumps(
            {
                "server": "warehouse",
                "gated": {"export": {"action": "data.export", "resource": "postgres://wh"}},
            }
        )
    )
    here = Path(__file__).parent
    src = here.parents[1] / "client" / "src"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "AIRLOCK"))}
    env.update(
        AIRLOCK_URL=airlock_url,
        AIRLOCK_TOKEN=requester_agent.token,
        PYTHONPATH=str(src),
        UPSTREAM_CALLS=str(calls),
    )
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "airlock_client.cli",
            "mcp",
            "gateway",
            "--config",
            str(config),
            "--wait",
            "1",
            "--",
            sys.executable,
            str(here / "mcp_upstream.py"),
        ],
        env=env,
    )
    args = {"table": "customers", "destination": "s3://team-bucket/x.csv"}

    async def scenario() -> tuple:
        async with Client(params, read_timeout_seconds=60) as agent:
            held = await agent.call_tool("export", args)
            before = calls.read_text()
            request_id = held.meta[PENDING_META]["request_id"]
            await asyncio.to_thread(approve_when_pending, airlock_url, reviewer.token, request_id)
            ran = await agent.call_tool("export", args)
            return held, before, ran

    held, before, ran = asyncio.run(scenario())
    assert "Held for approval" in text(held)
    assert before == ""
    assert "exported customers" in text(ran)
    assert [json.loads(line) for line in calls.read_text().splitlines()] == [
        {"tool": "export", "arguments": args}
    ]
