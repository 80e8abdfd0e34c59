"""Separation of duties: the one check every review path calls (API, console,
Slack, Teams). Nobody reviews without passing through ``check_review``.

A requester is anyone who answers for the request: the person who filed it, the
owner of the agent that filed it (then or now), and the ``on_behalf_of`` person.
None of them may approve it, and neither may an agent. Denying is the safe
direction: a requester who is also a reviewer may stop their own request.
"""

from __future__ import annotations

from accounts.models import Agent, User
from approvals.exceptions import (
    AlreadyReviewed,
    NotAReviewer,
    NotPending,
    OriginalNotKept,
    RevealForbidden,
    ReviewRefused,
    SelfApproval,
)
from approvals.models import ActionRequest, ActionStatus, Review, Verdict


def is_requester(action: ActionRequest, principal: User | Agent) -> bool:
    if isinstance(principal, Agent):
        return action.requester_agent_id == principal.pk
    if action.requester_user_id is not None and action.requester_user_id == principal.pk:
        return True
    if action.requester_owner_id is not None and action.requester_owner_id == principal.pk:
        return True
    agent = action.requester_agent
    if agent is not None and agent.owner_id == principal.pk:
        return True
    return bool(action.on_behalf_of) and action.on_behalf_of == principal.email.lower()


def reviewer_group_names(action: ActionRequest) -> set[str]:
    return {group.name for group in action.reviewer_groups.all()}


def check_review(action: ActionRequest, principal: User | Agent, verdict: str) -> None:
    """Raise the reason ``principal`` may not give ``verdict`` on ``action`` now."""
    if isinstance(principal, Agent):
        if is_requester(action, principal) and verdict == Verdict.APPROVE:
            raise SelfApproval()
        raise NotAReviewer("agents cannot review requests")
    if verdict == Verdict.APPROVE and is_requester(action, principal):
        raise SelfApproval()
    if not principal.group_names() & reviewer_group_names(action):
        raise NotAReviewer()
    if Review.objects.filter(action=action, reviewer=principal).exists():
        raise AlreadyReviewed()
    if action.status != ActionStatus.PENDING:
        raise NotPending()


def refusal(action: ActionRequest, principal: User | Agent, verdict: str) -> ReviewRefused | None:
    """Why ``principal`` may not give ``verdict`` now, or None: for pages that show
    the reason instead of a button that would fail."""
    try:
        check_review(action, principal, verdict)
    except ReviewRefused as exc:
        return exc
    return None


def can_review(action: ActionRequest, principal: User | Agent, verdict: str) -> bool:
    return refusal(action, principal, verdict) is None


def reveal_refusal(action: ActionRequest, principal: User | Agent) -> Exception | None:
    """Why ``principal`` may not see ``action``'s original payload, or None. The API's
    reveal and the console's reveal button both ask here."""
    if isinstance(principal, Agent) or is_requester(action, principal):
        return NotAReviewer("only a reviewer who is not the requester may reveal")
    if not principal.group_names() & reviewer_group_names(action):
        return NotAReviewer()
    if not action.reveal_allowed:
        return RevealForbidden()
    if not action.original_kept:
        return OriginalNotKept()
    return None
