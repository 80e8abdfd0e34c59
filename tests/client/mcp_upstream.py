"""A small upstream MCP server (stdio) for the gateway's process test: it appends every
call that reaches it to the file named by UPSTREAM_CALLS."""

from __future__ import annotations

import json
import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("warehouse")


def _record(tool: str, arguments: dict) -> None:
    # The gateway forwards its environment, but never the agent's Airlock token.
    assert "AIRLOCK_TOKEN" not in os.environ
    with open(os.environ["UPSTREAM_CALLS"], "a") as calls:
        calls.write(json.dumps({"tool": tool, "arguments": arguments}) + "\n")


@server.tool()
def export(table: str, destination: str) -> str:
    """Export a table."""
    _record("export", {"table": table, "destination": destination})
    return f"exported {table} to {destination}"


if __name__ == "__main__":
    server.run()
