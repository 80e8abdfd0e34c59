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
from airlock.errors import InvalidInput
from approvals import duties
from approvals.models import FINAL_STATUSES, ActionRequest, ActionStatus

_RELATED = ("requester_agent__owner", "requester_user", "grant_record__redeemed_by")
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
    cache = action.__dict__.get("_prefetched_objects_cache", {})
    if "reviewer_groups" in cache and "reviews" in cache and not cache["reviews"]:
        # Filed just now (``know_new``), or read with both relations and no review:
        # nothing left to load, and Django's walk over the lookups to find that out
        # cost 2% of an allowed filing.
        return
    prefetch_related_objects([action], *_PREFETCH)


def know_new(action: ActionRequest, reviewer_groups: list[Any]) -> None:
    """A request just filed has no reviews, no grant record, and the reviewer groups
    it was filed with: give the representation those instead of three queries."""
    cache = action.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in (("reviews", []), ("reviewer_groups", reviewer_groups)):
        # A queryset that is never run, only read: the related manager's own (with its
        # filter on this request) costs more to build than the rest of this function.
        queryset: QuerySet[Any] = QuerySet(model=ActionRequest._meta.get_field(name).related_model)
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True  # type: ignore[attr-defined]
        cache[name] = queryset
    ActionRequest.grant_record.related.set_cached_value(action, None)


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


# A glob is compiled to a regular expression; PostgreSQL refuses one that is "too
# complex" and a backtracking engine (SQLite's REGEXP is Python's) can take
# exponential time, so the filters are as long as the fields they match, and a
# glob has a few wildcards at most. The API and the console both check here.
FILTER_LIMITS = {"action": 128, "environment": 64, "agent": 64}
MAX_WILDCARDS = 8


def checked_filter(name: str, value: str | None) -> str | None:
    """``value`` for the list filter ``name``, or InvalidInput naming why not."""
    if value is None:
        return None
    limit = FILTER_LIMITS[name]
    if len(value) > limit:
        raise InvalidInput(details={name: [f"at most {limit} characters"]})
    if name == "action" and sum(value.count(c) for c in "*?") > MAX_WILDCARDS:
        raise InvalidInput(details={name: [f"at most {MAX_WILDCARDS} wildcards (* or ?)"]})
    return value


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


# --- the console's queue filters (read-only) ------------------------------------------


def _json_list_holds(
    queryset: QuerySet[ActionRequest], field: str, item: Any, test: Any
) -> QuerySet[ActionRequest]:
    """Rows whose JSON list ``field`` holds ``item``: a containment query where the
    database has one (PostgreSQL), else the same test in Python (SQLite)."""
    from django.db import connection

    if connection.features.supports_json_field_contains:
        return queryset.filter(**{f"{field}__contains": [item]})
    ids = [pk for pk, values in queryset.values_list("pk", field) if test(values or [])]
    return queryset.filter(pk__in=ids)


def with_data_class(queryset: QuerySet[ActionRequest], entity: str) -> QuerySet[ActionRequest]:
    """Requests whose screening found ``entity`` (an entity type such as US_SSN)."""
    return _json_list_holds(
        queryset,
        "findings",
        {"entity": entity},
        lambda findings: any(isinstance(f, dict) and f.get("entity") == entity for f in findings),
    )


def with_rule(queryset: QuerySet[ActionRequest], rule: str) -> QuerySet[ActionRequest]:
    """Requests decided by the policy rule named ``rule``."""
    return _json_list_holds(queryset, "policy_rules", rule, lambda rules: rule in rules)


_FOUND_ENTITY = re.compile(r'"entity": ?"([A-Z][A-Z0-9_]*)"')
_RULE_NAME = re.compile(r'"([a-z0-9][a-z0-9_.-]*)"')


def queue_facets(queryset: QuerySet[ActionRequest], limit: int = 5000) -> dict[str, list[str]]:
    """The environments, data classes, rules and agents present in ``queryset`` (the
    first ``limit`` rows): the choices a queue filter offers. The JSON columns are
    read as text and only their entity types and rule names picked out: decoding
    every row's findings would cost more than the rest of the queue page."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    environments: set[str] = set()
    classes: set[str] = set()
    rules: set[str] = set()
    agents: set[str] = set()
    rows = queryset.order_by().values_list(
        "environment",
        Cast("findings", TextField()),
        Cast("policy_rules", TextField()),
        "requester_agent__name",
    )[:limit]
    for environment, findings, policy_rules, agent in rows:
        if environment:
            environments.add(environment)
        if findings and findings != "[]":
            classes.update(_FOUND_ENTITY.findall(findings))
        if policy_rules:
            rules.update(_RULE_NAME.findall(policy_rules))
        if agent:
            agents.add(agent)
    return {
        "environments": sorted(environments),
        "data_classes": sorted(classes),
        "rules": sorted(rules),
        "agents": sorted(agents),
    }


def previous_approved(action: ActionRequest, principal: User) -> ActionRequest | None:
    """The latest earlier request for the same action on the same resource that was
    approved and that ``principal`` may see: what a repeat is compared with."""
    return (
        requests_visible_to(principal)
        .filter(
            action=action.action,
            resource=action.resource,
            status=ActionStatus.APPROVED,
            created_at__lt=action.created_at,
            screened_at__isnull=False,
        )
        .exclude(pk=action.pk)
        .order_by("-created_at")
        .first()
    )


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
