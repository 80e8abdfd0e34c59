"""The LangChain and OpenAI Agents adapters, each driven by a fake model that asks
for one gated tool call (no network), against a real Airlock."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from airlock_client import Airlock, AsyncAirlock

ARGS = {"table": "customers", "destination": "s3://team-bucket/x.csv"}


def until_pending(url: str, token: str) -> str:
    with Airlock(url, token) as person:
        deadline = time.monotonic() + 10
        while True:
            page = person.list(status="pending")["results"]
            if page:
                return page[0]["id"]
            assert time.monotonic() < deadline, "nothing pending"
            time.sleep(0.05)


# --- LangChain v1 ---------------------------------------------------------------------


def langchain_agent(client: Airlock, ran: list, **middleware: Any):
    pytest.importorskip("langchain", reason="the [langchain] extra is a dev dependency")
    from langchain.agents import create_agent
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.tools import tool
    from langgraph.checkpoint.memory import InMemorySaver

    from airlock_client.langchain import AirlockMiddleware, Gate

    class FakeModel(GenericFakeChatModel):
        def bind_tools(self, tools: Any, **kwargs: Any) -> FakeModel:
            return self

    model = FakeModel(
        messages=iter(
            [
                AIMessage(
                    content="",
                    tool_calls=[
                        {"name": "export", "args": ARGS, "id": "call_1", "type": "tool_call"}
                    ],
                ),
                AIMessage(content="done"),
            ]
        )
    )

    @tool
    def export(table: str, destination: str) -> str:
        """Export a table."""
        ran.append({"table": table, "destination": destination})
        return f"exported {table}"

    gate = AirlockMiddleware(
        client, {"export": Gate("data.export", "postgres://warehouse")}, wait=1, **middleware
    )
    return create_agent(model, [export], middleware=[gate], checkpointer=InMemorySaver())


def test_langchain_pauses_then_runs_the_approved_call(airlock_url, requester_agent, reviewer):
    from langgraph.types import Command

    client = Airlock(airlock_url, requester_agent.token)
    ran: list = []
    agent = langchain_agent(client, ran)
    config = {"configurable": {"thread_id": "t-1"}}
    first = agent.invoke({"messages": [("user", "export customers")]}, config)
    [paused] = first["__interrupt__"]
    assert paused.value["type"] == "airlock"
    assert ran == []

    # Resuming says "approved", but Airlock has not: the tool must not run.
    early = agent.invoke(Command(resume={"approved": True}), config)
    assert ran == []
    refusal = [m for m in early["messages"] if m.type == "tool"][-1]
    assert refusal.status == "error"
    assert "still held" in refusal.content
    assert paused.value["request_id"] in refusal.content


def test_langchain_runs_the_call_once_airlock_approves(airlock_url, requester_agent, reviewer):
    from langgraph.types import Command

    client = Airlock(airlock_url, requester_agent.token)
    ran: list = []
    agent = langchain_agent(client, ran)
    config = {"configurable": {"thread_id": "t-2"}}
    first = agent.invoke({"messages": [("user", "export customers")]}, config)
    request_id = first["__interrupt__"][0].value["request_id"]
    assert until_pending(airlock_url, reviewer.token) == request_id
    Airlock(airlock_url, reviewer.token).approve(request_id)
    done = agent.invoke(Command(resume="decided"), config)
    assert ran == [ARGS]
    assert done["messages"][-1].content == "done"
    # The re-run node found the same request: one filed.
    [request] = client.list()["results"]
    assert request["id"] == request_id
    assert request["outcome"]["result"] == "succeeded"


def test_langchain_blocking_mode_refuses_a_denied_call(airlock_url, requester_agent, reviewer):
    import threading

    client = Airlock(airlock_url, requester_agent.token)
    ran: list = []
    agent = langchain_agent(client, ran, interrupt=False, timeout=15)

    def deny() -> None:
        Airlock(airlock_url, reviewer.token).deny(
            until_pending(airlock_url, reviewer.token), "no exports today"
        )

    thread = threading.Thread(target=deny)
    thread.start()
    out = agent.invoke({"messages": [("user", "x")]}, {"configurable": {"thread_id": "t-3"}})
    thread.join(10)
    assert ran == []
    refusal = [m for m in out["messages"] if m.type == "tool"][-1]
    assert "denied" in refusal.content


# --- OpenAI Agents SDK ---------------------------------------------------------------


def openai_agent(gate: Any, ran: list):
    pytest.importorskip("agents", reason="the [openai-agents] extra is a dev dependency")
    from agents import Agent, function_tool, set_tracing_disabled
    from agents.items import ModelResponse
    from agents.models.interface import Model
    from agents.usage import Usage
    from openai.types.responses import (
        ResponseFunctionToolCall,
        ResponseOutputMessage,
        ResponseOutputText,
    )

    set_tracing_disabled(True)  # traces would be exported to OpenAI: no network here

    class FakeModel(Model):
        """Asks for one export, then answers once the tool's output is in."""

        async def get_response(self, system_instructions, input, *args: Any, **kwargs: Any):
            items = input if isinstance(input, list) else []
            answered = any(
                (i.get("type") if isinstance(i, dict) else getattr(i, "type", None))
                == "function_call_output"
                for i in items
            )
            if not answered:
                output: list = [
                    ResponseFunctionToolCall(
                        type="function_call",
                        id="fc_1",
                        call_id="call_export_1",
                        name="export",
                        arguments='{"table": "customers", "destination": "s3://team-bucket/x.csv"}',
                    )
                ]
            else:
                output = [
                    ResponseOutputMessage(
                        id="msg_1",
                        type="message",
                        role="assistant",
                        status="completed",
                        content=[
                            ResponseOutputText(type="output_text", text="done", annotations=[])
                        ],
                    )
                ]
            return ModelResponse(output=output, usage=Usage(), response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any):
            raise NotImplementedError

    @function_tool(needs_approval=gate)
    def export(table: str, destination: str) -> str:
        """Export a table."""
        ran.append({"table": table, "destination": destination})
        return f"exported {table}"

    return Agent(name="exporter", model=FakeModel(), tools=[export])


def test_openai_agents_pause_until_airlock_approves(airlock_url, requester_agent, reviewer):
    from agents import Runner

    from airlock_client.openai_agents import AirlockApproval

    async def scenario() -> dict:
        seen: dict = {}
        async with AsyncAirlock(airlock_url, requester_agent.token) as client:
            gate = AirlockApproval(client, action="data.export", resource="postgres://warehouse")
            ran: list = []
            agent = openai_agent(gate, ran)
            result = await Runner.run(agent, "export customers")
            seen["interruptions"] = len(result.interruptions)
            seen["ran_before"] = list(ran)
            state = result.to_state()
            seen["applied_while_held"] = await gate.apply(state)
            request_id = await asyncio.to_thread(until_pending, airlock_url, reviewer.token)
            await asyncio.to_thread(Airlock(airlock_url, reviewer.token).approve, request_id)
            seen["applied"] = await gate.apply(state)
            result = await Runner.run(agent, state)
            seen["final"] = result.final_output
            seen["ran"] = ran
            seen["requests"] = (await client.list())["results"]
        return seen

    seen = asyncio.run(scenario())
    assert seen["interruptions"] == 1
    assert seen["ran_before"] == []
    assert seen["applied_while_held"] == 0
    assert seen["applied"] == 1
    assert seen["ran"] == [ARGS]
    assert seen["final"] == "done"
    [request] = seen["requests"]
    assert request["payload"] == ARGS


def test_openai_agents_do_not_pause_a_self_service_call(airlock_url, requester_agent):
    from agents import Runner

    from airlock_client.openai_agents import AirlockApproval

    async def scenario() -> tuple:
        async with AsyncAirlock(airlock_url, requester_agent.token) as client:
            gate = AirlockApproval(client, action="metrics.read", resource="grafana://x")
            ran: list = []
            result = await Runner.run(openai_agent(gate, ran), "export")
            return result.interruptions, ran

    interruptions, ran = asyncio.run(scenario())
    assert interruptions == []
    assert ran == [ARGS]
