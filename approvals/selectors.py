"""Reads of action requests, always scoped to who is asking."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet, prefetch_related_objects

from accounts import roles
from accounts.models import Agent, User
from approvals import duties
from approvals.models import FINAL_STATUSES, ActionRequest

_RELATED = ("requester_agent__owner", "requester_user")
_PREFETCH = ("reviews__reviewer", "reviewer_groups")


def _base() -> QuerySet[ActionRequest]:
    # The sealed original never leaves the database except through an audited reveal.
    return (
        ActionRequest.objects.select_related(*_RELATED)
        .prefetch_related(*_PREFETCH)
        .defer("payload_sealed")
    )


def load_for_representation(action: ActionRequest) -> None:
    """Load what the representation reads onto an action already in memory (a
    no-op for relations a selector already prefetched)."""
    prefetch_related_objects([action], *_PREFETCH)


def requests_visible_to(principal: User | Agent) -> QuerySet[ActionRequest]:
    """Agents see their own requests. People see what they filed, what their agents
    filed, what was filed on their behalf, and what their groups may review;
    auditors and admins see everything (read-only)."""
    queryset = _base()
    if isinstance(principal, Agent):
        return queryset.filter(requester_agent=principal)
    if roles.reads_everything(principal):
        return queryset
    return queryset.filter(
        duties.requester_side_q(principal) | Q(duties.in_reviewer_groups_q(principal))
    )


def requested_by(person: User) -> QuerySet[ActionRequest]:
    """What a person answers for: filed by them, by their agents, or on their behalf."""
    return _base().filter(duties.requester_side_q(person)).order_by("-created_at")


def reviewable_by(person: User) -> QuerySet[ActionRequest]:
    """Pending requests this person could approve now: their groups, not their own,
    not yet reviewed by them (``duties.reviewable_q``, the rule of ``check_review``)."""
    return _base().filter(duties.reviewable_q(person))


def visible_action(principal: User | Agent, action_id: UUID) -> ActionRequest | None:
    return requests_visible_to(principal).filter(pk=action_id).first()


def is_decided(action_id: UUID) -> bool:
    return ActionRequest.objects.filter(pk=action_id, status__in=FINAL_STATUSES).exists()


def glob_to_regex(pattern: str) -> str:
    """``data.*`` -> ``^data\\..*$``: ``*`` any run of characters, ``?`` one."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return "^" + "".join(out) + "$"


def filter_requests(
    queryset: QuerySet[ActionRequest],
    *,
    statuses: list[str] | None = None,
    action_glob: str | None = None,
    environment: str | None = None,
    agent: str | None = None,
) -> QuerySet[ActionRequest]:
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if action_glob:
        if "*" in action_glob or "?" in action_glob:
            queryset = queryset.filter(action__regex=glob_to_regex(action_glob))
        else:
            queryset = queryset.filter(action=action_glob)
    if environment:
        queryset = queryset.filter(environment=environment)
    if agent:
        queryset = queryset.filter(requester_agent__name=agent)
    return queryset


def decided_history(since: datetime, limit: int) -> Iterator[ActionRequest]:
    """Requests filed since ``since``, oldest first, for replaying policy (backtests).
    Reads only what a decision depends on."""
    return (
        ActionRequest.objects.filter(created_at__gte=since)
        .select_related("requester_agent")
        .only(
            "id",
            "action",
            "resource",
            "environment",
            "payload",
            "context",
            "justification",
            "findings",
            "policy_version",
            "policy_effect",
            "policy_rules",
            "requirements",
            "requester_agent__name",
            "created_at",
            "status",
        )
        .order_by("created_at")[:limit]
        .iterator(chunk_size=2000)
    )


def queue_item_for(user_id: int, action_id: UUID) -> dict[str, Any] | None:
    """The representation of a request for one person's live queue, or None when it
    is not theirs to review: outside their reviewer groups, or their own (filed by
    them, by their agent, or on their behalf). Re-read on every event, so a change of
    groups counts at once."""
    from approvals.serializers import ActionSerializer

    person = User.objects.filter(pk=user_id, is_active=True).first()
    action = _base().filter(pk=action_id).first()
    if person is None or action is None or not duties.in_audience(action, person):
        return None
    return ActionSerializer(action).data


def requests_for_evidence(ids: list[UUID]) -> dict[str, dict[str, Any]]:
    """Requests by id for an evidence package: who filed them, who answers for them,
    when they were decided and what the agent reported. Never the payload nor its
    sealed original (a package carries neither); plain values, for 100,000 rows."""
    rows = ActionRequest.objects.filter(pk__in=ids).values(
        "id",
        "requester_agent__name",
        "requester_agent__owner__email",
        "requester_user__email",
        "requester_owner__email",
        "created_at",
        "decided_at",
        "outcome",
        "outcome_at",
    )
    return {str(row["id"]): dict(row) for row in rows}
