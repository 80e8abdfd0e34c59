"""``airlock mcp serve``: an MCP server whose tools ask Airlock (needs ``[mcp]``).

Tools: ``request_approval`` (file an action), ``get_decision`` (read it) and
``wait_for_decision`` (long-poll it). Every call is bounded (about 25 s): MCP clients
drop tool calls that take a minute, so a request still open at the bound comes back
``timed_out`` with its id, and the agent calls ``wait_for_decision`` again. This is
the voluntary path: an executor must still demand the grant. ``airlock mcp gateway``
is the enforcing one.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

from airlock_client.client import OPEN, AsyncAirlock

INSTRUCTIONS = (
    "Before any privileged action, call request_approval with the exact payload you will "
    "run. If the decision is still open, call wait_for_decision with its request_id until "
    "it is decided. Act only when status is approved, with exactly the approved payload."
)
MAX_WAIT = 25


class Decision(BaseModel):
    request_id: str
    status: str
    url: str
    timed_out: bool
    grant: str | None = None
    message: str = ""


def _decision(client: AsyncAirlock, request: dict[str, Any]) -> Decision:
    return Decision(
        request_id=request["id"],
        status=request["status"],
        url=client.console_url(request["id"]),
        timed_out=request["status"] in OPEN,
        grant=request.get("grant"),
        message=(request.get("policy") or {}).get("message") or "",
    )


def build_server(client: AsyncAirlock, *, max_wait: int = MAX_WAIT) -> MCPServer:
    mcp = MCPServer("airlock", instructions=INSTRUCTIONS)

    @mcp.tool()
    async def request_approval(
        action: str,
        resource: str,
        payload: Any = None,
        environment: str | None = None,
        justification: str | None = None,
        idempotency_key: str | None = None,
    ) -> Decision:
        """Ask Airlock to approve an action; waits briefly for a decision."""
        request = await client.submit(
            action,
            resource,
            payload=payload,
            environment=environment,
            justification=justification,
            # The caller's key makes a retried call find its first request.
            idempotency_key=idempotency_key or f"mcp-{uuid.uuid4()}",
            wait=max_wait,
            context={"via": "mcp"},
        )
        return _decision(client, request)

    @mcp.tool()
    async def get_decision(request_id: str) -> Decision:
        """The current state of an Airlock request."""
        return _decision(client, await client.get(request_id))

    @mcp.tool()
    async def wait_for_decision(request_id: str, timeout_s: int = max_wait) -> Decision:
        """Wait (at most about 25 s) for an Airlock request's decision. timed_out is not
        an error: call again."""
        bounded = max(1, min(int(timeout_s), max_wait))
        return _decision(client, await client.wait(request_id, timeout=bounded))

    return mcp


def serve(args: Any) -> None:
    async def main() -> None:
        async with AsyncAirlock(args.url) as client:
            await build_server(client, max_wait=min(args.wait, 30)).run_stdio_async()

    asyncio.run(main())
