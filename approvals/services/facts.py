"""The facts policy decides a stored or newly filed request by. Both go through
``RequestFacts.from_mapping``, as simulation and the console do, so a live decision,
a screening's decision and a backtest read the same facts."""

from __future__ import annotations

from typing import Any

from accounts.models import Agent
from approvals.models import ActionRequest
from policies.decisions import RequestFacts


def facts_of_filing(data: dict[str, Any], *, agent: Agent | None) -> RequestFacts:
    """A request as it is being filed (validated input)."""
    return RequestFacts.from_mapping({**data, "agent": agent.name if agent else None})


def facts_of(action: ActionRequest, *, payload: Any) -> RequestFacts:
    """A stored request, with ``payload``: the original when screening decides, the
    masked copy when a backtest replays (the original is not kept for that)."""
    return RequestFacts.from_mapping(
        {
            "action": action.action,
            "resource": action.resource,
            "environment": action.environment,
            "agent": action.requester_agent.name if action.requester_agent else None,
            "payload": payload,
            "context": action.context,
            "justification": action.justification,
        }
    )
