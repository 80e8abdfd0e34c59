"""``airlock hook <agent>`` run as the agents run it (a process, JSON on stdin) on each
agent's recorded hook input, against a real Airlock."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airlock_client import Airlock
from airlock_client.cli import main

INPUTS = Path(__file__).parent / "hook_inputs"
SRC = Path(__file__).resolve().parents[2] / "client" / "src"
AGENTS = ["claude", "codex", "gemini", "cursor"]


def recorded(agent: str, case: str) -> dict:
    return json.loads((INPUTS / f"{agent}.json").read_text())[case]


def run_process(agent: str, event: dict | str, url: str, token: str, *extra: str):
    """As the agent runs the hook: a process, JSON on stdin, the exit code read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "AIRLOCK", "PYTHON"))}
    env.update(AIRLOCK_URL=url, AIRLOCK_TOKEN=token, PYTHONPATH=str(SRC))
    done = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "airlock_client.cli", "hook", agent, "--wait", "1", *extra],
        input=event if isinstance(event, str) else json.dumps(event),
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def run_hook(monkeypatch, capsys):
    """The same command in this process (a process start costs seconds on a busy
    machine); ``run_process`` shows the two agree."""

    def run(agent: str, event: dict | str, url: str, token: str, *extra: str):
        monkeypatch.setenv("AIRLOCK_URL", url)
        monkeypatch.setenv("AIRLOCK_TOKEN", token)
        monkeypatch.setattr(
            sys, "stdin", io.StringIO(event if isinstance(event, str) else json.dumps(event))
        )
        capsys.readouterr()
        code = main(["hook", agent, "--wait", "1", *extra])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def until_pending(client: Airlock, action_id: str) -> None:
    """Screening runs after the filing commits; a reviewer acts once it is pending."""
    deadline = time.monotonic() + 10
    while client.get(action_id)["status"] == "screening":
        assert time.monotonic() < deadline, "still screening"
        time.sleep(0.05)


def decision(agent: str, stdout: str) -> tuple[str, str]:
    out = json.loads(stdout)
    if agent in ("claude", "codex"):
        specific = out["hookSpecificOutput"]
        assert specific["hookEventName"] == "PreToolUse"
        return specific["permissionDecision"], specific["permissionDecisionReason"]
    if agent == "gemini":
        return out["decision"], out["reason"]
    return out["permission"], out["agent_message"]


@pytest.mark.parametrize("agent", AGENTS)
def test_an_allowed_call_gets_the_agents_allow(agent, airlock_url, requester_agent, run_hook):
    code, out, _ = run_hook(agent, recorded(agent, "allowed"), airlock_url, requester_agent.token)
    assert code == 0
    verdict, reason = decision(agent, out)
    assert verdict == "allow"
    [request] = Airlock(airlock_url, requester_agent.token).list()["results"]
    assert request["status"] == "approved"
    assert request["id"] in reason


@pytest.mark.parametrize("agent", AGENTS)
def test_a_held_call_is_denied_naming_the_request_then_allowed_once_approved(
    agent, airlock_url, requester_agent, reviewer, run_hook
):
    event = recorded(agent, "held")
    code, out, _ = run_hook(agent, event, airlock_url, requester_agent.token)
    assert code == 0
    verdict, reason = decision(agent, out)
    assert verdict == "deny"
    agent_client = Airlock(airlock_url, requester_agent.token)
    [request] = agent_client.list()["results"]
    assert request["status"] in ("screening", "pending")
    assert f"Held for approval in Airlock as {request['id']}" in reason
    assert agent_client.console_url(request["id"]) in reason
    assert request["payload"] == event.get("tool_input", {"command": event.get("command")})

    # The agent retries the same call: the same request, now decided.
    until_pending(agent_client, request["id"])
    Airlock(airlock_url, reviewer.token).approve(request["id"])
    code, out, _ = run_hook(agent, event, airlock_url, requester_agent.token)
    assert code == 0
    verdict, reason = decision(agent, out)
    assert verdict == "allow"
    assert request["id"] in reason
    assert len(agent_client.list()["results"]) == 1


@pytest.mark.parametrize("agent", AGENTS)
def test_airlock_unreachable_exits_2_and_allows_nothing(agent, requester_agent, run_hook):
    code, out, err = run_hook(
        agent, recorded(agent, "held"), "http://127.0.0.1:9", requester_agent.token
    )
    assert code == 2
    assert out == ""
    assert "TransportError" in err
    assert requester_agent.token not in err


def test_headless_claude_defers_a_held_call(airlock_url, requester_agent, run_hook):
    code, out, _ = run_hook(
        "claude", recorded("claude", "held"), airlock_url, requester_agent.token, "--defer"
    )
    assert code == 0
    assert decision("claude", out)[0] == "defer"


def test_a_call_policy_denies_is_denied_with_its_message(airlock_url, requester_agent, run_hook):
    event = {**recorded("claude", "held"), "tool_name": "mcp__warehouse__drop_table"}
    code, out, _ = run_hook("claude", event, airlock_url, requester_agent.token)
    assert code == 0
    verdict, reason = decision("claude", out)
    assert verdict == "deny"
    assert "dropping tables is never allowed" in reason


@pytest.mark.parametrize("bad", ["not json", "[]", '{"tool_input": {}}'])
def test_input_that_is_not_a_hook_event_exits_2(bad, requester_agent, run_hook):
    # Never reaches Airlock (the URL is unreachable anyway): fails closed on parsing.
    code, out, err = run_hook("claude", bad, "http://127.0.0.1:9", requester_agent.token)
    assert code == 2
    assert out == ""
    assert "HookInputError" in err


def test_bad_credentials_exit_2(airlock_url, run_hook):
    code, out, err = run_hook("gemini", recorded("gemini", "held"), airlock_url, "wrong-token")
    assert code == 2
    assert out == ""
    assert "wrong-token" not in err


def test_the_hook_as_a_process_answers_and_fails_closed(airlock_url, requester_agent):
    code, out, _ = run_process(
        "claude", recorded("claude", "held"), airlock_url, requester_agent.token
    )
    assert code == 0
    assert decision("claude", out)[0] == "deny"
    code, out, err = run_process(
        "claude", recorded("claude", "held"), "http://127.0.0.1:9", requester_agent.token
    )
    assert code == 2
    assert out == ""
    assert requester_agent.token not in err
