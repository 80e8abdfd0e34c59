"""``airlock hook <agent>``: a coding agent's pre-tool-use hook, gated by Airlock.

Reads the hook's JSON on stdin, files the tool call (action ``tool.<tool name>``,
payload the tool input), waits a bounded time, and answers in the agent's own
format. Held calls are denied with the request's id and URL (the agent retries the
same call later and, by the idempotency key, finds the same request), or deferred
for headless Claude runs. Never "ask": that asks the agent's own user, who is on the
requester's side. Any error exits 2, which every one of these agents treats as a
block: the hook fails closed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from airlock_client.canonical import canonical_bytes

AGENTS = ("claude", "codex", "gemini", "cursor")
_SLUG = re.compile(r"[^a-z0-9_-]+")


class HookInputError(ValueError):
    """The hook's input is not what the agent sends."""


@dataclass(frozen=True)
class ToolCall:
    agent: str
    session: str
    tool: str
    tool_input: Any
    cwd: str
    event: str


def parse(agent: str, raw: str) -> ToolCall:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise HookInputError(f"the hook input is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise HookInputError("the hook input is not a JSON object")
    tool = data.get("tool_name")
    tool_input = data.get("tool_input")
    if agent == "cursor" and not tool and "command" in data:
        # beforeShellExecution names no tool: the command is the call.
        tool, tool_input = "shell", {"command": data["command"]}
    if not isinstance(tool, str) or not tool:
        raise HookInputError("the hook input names no tool (tool_name)")
    session = data.get("session_id") or data.get("conversation_id") or ""
    cwd = data.get("cwd") or next(iter(data.get("workspace_roots") or []), "") or ""
    return ToolCall(
        agent=agent,
        session=str(session),
        tool=tool,
        tool_input=tool_input if tool_input is not None else {},
        cwd=str(cwd),
        event=str(data.get("hook_event_name") or "PreToolUse"),
    )


def action_for(tool: str, prefix: str = "tool") -> str:
    """``mcp__warehouse__drop_table`` → ``tool.mcp.warehouse.drop_table``;
    ``Bash`` → ``tool.bash``."""
    parts = [_SLUG.sub("-", part.lower()).strip("-") for part in tool.split("__")]
    return ".".join([prefix, *[p for p in parts if p]])[:128]


def idempotency_key(call: ToolCall) -> str:
    """The same call in the same session is the same request: a retry finds it."""
    digest = hashlib.sha256(
        canonical_bytes([call.agent, call.session, call.tool, call.tool_input])
    ).hexdigest()
    return f"hook-{call.agent}-{digest}"


def filing(call: ToolCall, *, prefix: str = "tool", environment: str | None = None) -> dict:
    return {
        "action": action_for(call.tool, prefix),
        "resource": (call.cwd or f"{call.agent}:{call.tool}")[:512],
        "environment": environment,
        "payload": call.tool_input,
        "context": {
            "agent": call.agent,
            "tool": call.tool,
            "session_id": call.session[:200],
            "hook_event": call.event,
        },
        "idempotency_key": idempotency_key(call),
    }


def reason_for(request: dict[str, Any], url: str) -> str:
    status = request.get("status")
    rid = request.get("id")
    if status == "approved":
        return f"Approved in Airlock as {rid}: {url}"
    if status in ("screening", "pending"):
        return (
            f"Held for approval in Airlock as {rid}: {url}. Do not work around this; "
            "retry the same call later."
        )
    message = (request.get("policy") or {}).get("message") or ""
    return f"Airlock {status} request {rid}: {url}" + (f" ({message})" if message else "")


def answer(agent: str, request: dict[str, Any], url: str, *, defer: bool = False) -> dict:
    """The agent's own output for this request's state."""
    status = request.get("status")
    reason = reason_for(request, url)
    if status == "approved":
        decision = "allow"
    elif status in ("screening", "pending") and defer and agent == "claude":
        decision = "defer"
    else:
        decision = "deny"
    if agent in ("claude", "codex"):
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision,
                "permissionDecisionReason": reason,
            }
        }
    if agent == "gemini":
        return {"decision": decision, "reason": reason}
    if agent == "cursor":
        return {"permission": decision, "user_message": reason, "agent_message": reason}
    raise HookInputError(f"unknown agent {agent!r}")
