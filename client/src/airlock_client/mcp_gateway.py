"""``airlock mcp gateway --config FILE -- <upstream command>``: an MCP server in front
of another, which runs the tools the config names only once Airlock approves them
(needs ``[mcp]``).

- A gated call is filed with its exact arguments as the payload, under an
  idempotency key derived from the server, tool, canonical arguments and session:
  calling again with the same arguments finds the same request, and Airlock refuses
  the same key with other arguments, so what runs is exactly what was approved.
- It waits at most about 25 s. A call still held returns a result saying so, with
  ``_meta["dev.airlock/pending"] = {request_id, url}``; the agent calls again later.
- A denied, expired or cancelled call returns an error result; upstream never sees it.
- Gated tools lose their ``outputSchema`` in ``tools/list``: a "held" result has no
  structured content, and clients validate it against the schema.
- With a grant in the approved request, the gateway verifies it against Airlock's
  JWKS and the arguments before forwarding.

Config (JSON)::

    {"server": "warehouse",
     "gated": {"drop_table": {"action": "schema.drop", "resource": "postgres://prod"}}}
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.server import Server
from mcp.server.stdio import stdio_server

from airlock_client.canonical import canonical_bytes
from airlock_client.client import OPEN, AsyncAirlock
from airlock_client.grants import verify_grant

PENDING_META = "dev.airlock/pending"
MAX_WAIT = 25


@dataclass(frozen=True)
class Gate:
    action: str
    resource: str
    environment: str | None = None


@dataclass(frozen=True)
class GatewayConfig:
    server: str
    gated: dict[str, Gate]
    audience: str = "airlock"

    @classmethod
    def load(cls, raw: dict[str, Any]) -> GatewayConfig:
        gated = {name: Gate(**spec) for name, spec in (raw.get("gated") or {}).items()}
        if not gated:
            raise ValueError("the gateway config gates no tool")
        return cls(
            server=str(raw.get("server") or "upstream"),
            gated=gated,
            audience=str(raw.get("audience") or "airlock"),
        )


def idempotency_key(config: GatewayConfig, tool: str, arguments: Any, session: str) -> str:
    digest = hashlib.sha256(canonical_bytes([config.server, tool, arguments, session])).hexdigest()
    return f"mcp-gateway-{digest}"


def _text(text: str, *, error: bool = False, meta: dict[str, Any] | None = None):
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=error, _meta=meta)


def build_gateway(
    client: AsyncAirlock,
    upstream: Client,
    config: GatewayConfig,
    *,
    session: str = "",
    max_wait: int = MAX_WAIT,
) -> Server:
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        listed = await upstream.list_tools()
        tools = []
        for tool in listed.tools:
            if tool.name in config.gated:
                note = " (Airlock: runs only once a reviewer approves; call again if held)"
                tool = tool.model_copy(
                    update={"output_schema": None, "description": (tool.description or "") + note}
                )
            tools.append(tool)
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        name, arguments = params.name, params.arguments or {}
        gate = config.gated.get(name)
        if gate is None:
            return await upstream.call_tool(name, arguments)
        key = idempotency_key(config, name, arguments, session)
        for _ in range(16):
            request = await client.submit(
                gate.action,
                gate.resource,
                environment=gate.environment,
                payload=arguments,
                idempotency_key=key,
                context={"via": "mcp-gateway", "server": config.server, "tool": name},
                wait=max_wait,
            )
            if not request.get("outcome"):
                break
            # That approval was used (its outcome is reported): an approval runs one
            # call, so the same arguments again are a new request.
            key = "mcp-gateway-" + hashlib.sha256(f"{key}:{request['id']}".encode()).hexdigest()
        else:
            return _text("Airlock: too many runs of this exact call", error=True)
        url = client.console_url(request["id"])
        status = request["status"]
        if status in OPEN:
            return _text(
                f"Held for approval in Airlock as {request['id']}: {url}. Do not work around "
                "this; call this tool again with the same arguments later.",
                meta={PENDING_META: {"request_id": request["id"], "url": url}},
            )
        if status != "approved":
            message = (request.get("policy") or {}).get("message") or ""
            return _text(
                f"Airlock {status} request {request['id']}; not run. {message}".strip(),
                error=True,
            )
        if request.get("grant"):
            # Bound to these exact arguments; refuses (raises) otherwise.
            verify_grant(
                request["grant"],
                await client.jwks(),
                payload=arguments,
                audience=config.audience,
            )
        result = await upstream.call_tool(name, arguments)
        await client.report_outcome(request["id"], "failed" if result.is_error else "succeeded")
        return result

    return Server(
        f"airlock-gateway-{config.server}", on_list_tools=list_tools, on_call_tool=call_tool
    )


def run(args: Any) -> None:
    config = GatewayConfig.load(json.loads(Path(args.config).read_text()))
    command = list(args.upstream)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise ValueError("no upstream command: airlock mcp gateway --config FILE -- CMD ...")

    async def main() -> None:
        # The upstream gets the gateway's environment (its own settings come through the
        # gateway's entry in mcp.json), never the agent's Airlock token.
        env = {k: v for k, v in os.environ.items() if k != "AIRLOCK_TOKEN"}
        upstream_params = StdioServerParameters(command=command[0], args=command[1:], env=env)
        async with AsyncAirlock(args.url) as client, Client(upstream_params) as upstream:
            server = build_gateway(client, upstream, config, max_wait=min(args.wait, 30))
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

    asyncio.run(main())
