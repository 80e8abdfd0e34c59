"""OpenAI Agents SDK: a ``needs_approval`` callable backed by Airlock (needs
``[openai-agents]``).

    gate = AirlockApproval(AsyncAirlock(), action="data.export", resource="postgres://wh")
    export = function_tool(export_fn, needs_approval=gate)
    result = await Runner.run(agent, "…")
    while result.interruptions:                 # held in Airlock
        state = result.to_state()               # persist state.to_string() if you must
        if not await gate.apply(state):         # nothing decided yet: wait, then retry
            ...
        result = await Runner.run(agent, state)

``needs_approval`` files the call (idempotency key: the tool call's id) and asks the
SDK to pause only when Airlock has not approved it, so a self-service action does
not interrupt. ``apply`` reads each paused call's decision from Airlock and approves
or rejects it in the run state: the decision is never taken on the agent's side.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from airlock_client.client import OPEN, AsyncAirlock

Resource = str | Callable[[dict[str, Any]], str]


class AirlockApproval:
    def __init__(
        self,
        client: AsyncAirlock,
        *,
        action: str,
        resource: Resource,
        environment: str | None = None,
        wait: int = 0,
    ):
        self.client = client
        self.action = action
        self.resource = resource
        self.environment = environment
        self.wait = wait

    async def _file(self, params: dict[str, Any], call_id: str, wait: int) -> dict[str, Any]:
        resource = self.resource(params) if callable(self.resource) else self.resource
        return await self.client.submit(
            self.action,
            resource,
            environment=self.environment,
            payload=params,
            idempotency_key=f"openai-agents-{call_id}",
            context={"via": "openai-agents"},
            wait=wait,
        )

    async def __call__(self, ctx: Any, params: dict[str, Any], call_id: str) -> bool:
        """The SDK's ``needs_approval``: True (pause) unless Airlock approved."""
        request = await self._file(params, call_id, self.wait)
        return request["status"] != "approved"

    async def apply(self, state: Any) -> int:
        """Approve or reject each paused call as Airlock decided; the number decided
        (0: all still held)."""
        decided = 0
        for item in state.get_interruptions():
            raw = item.raw_item
            call_id = getattr(raw, "call_id", None) or raw.get("call_id")
            arguments = getattr(raw, "arguments", None) or raw.get("arguments") or "{}"
            # The same key and body find the request filed by needs_approval.
            request = await self._file(json.loads(arguments), call_id, 0)
            if request["status"] in OPEN:
                continue
            if request["status"] == "approved":
                state.approve(item)
            else:
                state.reject(
                    item,
                    rejection_message=(
                        f"Airlock {request['status']} request {request['id']}: not run."
                    ),
                )
            decided += 1
        return decided
