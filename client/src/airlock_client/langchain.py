"""A LangChain v1 agent middleware that runs the tools it names only once Airlock
approves them (needs ``[langchain]``).

    agent = create_agent(model, tools, checkpointer=InMemorySaver(), middleware=[
        AirlockMiddleware(Airlock(), gated={"export": Gate("data.export", "postgres://wh")})
    ])

A gated call is filed with its arguments as the payload, keyed by the thread and the
tool call's id (the node re-runs on resume and finds the same request). Still held
after a short wait, it pauses the graph with ``interrupt({"type": "airlock", ...})``;
resume with ``Command(resume=...)`` once Airlock has decided: the decision is read
from Airlock again, never from the resume value. Without a checkpointer, pass
``interrupt=False`` and the call blocks on Airlock up to ``timeout``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import ToolMessage
from langgraph.types import interrupt as pause

from airlock_client.canonical import canonical_bytes
from airlock_client.client import OPEN, Airlock, AsyncAirlock


@dataclass(frozen=True)
class Gate:
    action: str
    resource: str
    environment: str | None = None


def _key(request: Any) -> str:
    call = request.tool_call
    config = getattr(request.runtime, "config", None) or {}
    thread = (config.get("configurable") or {}).get("thread_id", "")
    digest = hashlib.sha256(
        canonical_bytes([str(thread), call.get("id") or "", call["name"], call.get("args") or {}])
    ).hexdigest()
    return f"langchain-{digest}"


def _refusal(request: Any, decided: dict[str, Any], url: str) -> ToolMessage:
    call = request.tool_call
    status = decided["status"]
    note = "still held for approval" if status in OPEN else status
    return ToolMessage(
        content=f"Airlock request {decided['id']} is {note}: not run. {url}",
        tool_call_id=call["id"],
        name=call["name"],
        status="error",
    )


class AirlockMiddleware(AgentMiddleware):
    """Gate the tools named in ``gated`` (tool name → ``Gate``)."""

    def __init__(
        self,
        client: Airlock | AsyncAirlock,
        gated: dict[str, Gate],
        *,
        wait: int = 5,
        interrupt: bool = True,
        timeout: float = 300.0,
    ):
        super().__init__()
        self.client = client
        self.gated = gated
        self.wait = wait
        self.interrupt = interrupt
        self.timeout = timeout

    def _filing(self, request: Any, gate: Gate) -> dict[str, Any]:
        return {
            "action": gate.action,
            "resource": gate.resource,
            "environment": gate.environment,
            "payload": request.tool_call.get("args") or {},
            "idempotency_key": _key(request),
            "context": {"via": "langchain", "tool": request.tool_call["name"]},
            "wait": self.wait,
        }

    def _pause(self, decided: dict[str, Any], url: str) -> None:
        # The resume value is ignored: whoever resumes cannot approve.
        pause({"type": "airlock", "request_id": decided["id"], "url": url})

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        gate = self.gated.get(request.tool_call["name"])
        if gate is None:
            return handler(request)
        client: Any = self.client
        decided = client.submit(**self._filing(request, gate))
        url = client.console_url(decided["id"])
        if decided["status"] in OPEN:
            if self.interrupt:
                self._pause(decided, url)
                decided = client.get(decided["id"])
            else:
                decided = client.wait(decided["id"], timeout=self.timeout)
        if decided["status"] != "approved":
            return _refusal(request, decided, url)
        result = handler(request)
        client.report_outcome(
            decided["id"], "failed" if getattr(result, "status", "") == "error" else "succeeded"
        )
        return result

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        gate = self.gated.get(request.tool_call["name"])
        if gate is None:
            return await handler(request)
        client: Any = self.client
        decided = await client.submit(**self._filing(request, gate))
        url = client.console_url(decided["id"])
        if decided["status"] in OPEN:
            if self.interrupt:
                self._pause(decided, url)
                decided = await client.get(decided["id"])
            else:
                decided = await client.wait(decided["id"], timeout=self.timeout)
        if decided["status"] != "approved":
            return _refusal(request, decided, url)
        result = await handler(request)
        await client.report_outcome(
            decided["id"], "failed" if getattr(result, "status", "") == "error" else "succeeded"
        )
        return result
