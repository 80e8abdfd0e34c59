"""The state machine of an action request: the only code that writes ``status``.

Filing's first decision (``file``), screening's decision (``decide``) and every later
move (``move``: reviews, cancel, expiry) come through here. Each is checked against
``TRANSITIONS``, made race-safe (a new row, or a conditional update under the row
lock that must touch exactly one row), audited in the same transaction, and emitted
as one domain event (``approvals.dispatch``) from which every side effect follows.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import Agent, User
from airlock import prepared
from airlock.errors import NotFound
from approvals import dispatch, selectors
from approvals.exceptions import NotPending
from approvals.models import (
    FINAL_STATUSES,
    TRANSITIONS,
    ActionRequest,
    ActionReviewerGroup,
    ActionStatus,
)
from audit import catalogue
from audit.services import record, record_all
from policies.decisions import Decision, Effect

Principal = User | Agent

STATUS_FOR_EFFECT = {
    Effect.ALLOW: ActionStatus.APPROVED,
    Effect.DENY: ActionStatus.DENIED,
    Effect.REQUIRE_APPROVAL: ActionStatus.PENDING,
}

# The audit event that records arriving in each status.
STATUS_EVENT: dict[str, str] = {
    ActionStatus.PENDING: catalogue.ACTION_PENDING,
    ActionStatus.APPROVED: catalogue.ACTION_APPROVED,
    ActionStatus.DENIED: catalogue.ACTION_DENIED,
    ActionStatus.EXPIRED: catalogue.ACTION_EXPIRED,
    ActionStatus.CANCELLED: catalogue.ACTION_CANCELLED,
}


def lock(action_id: UUID) -> ActionRequest:
    """The request, locked for this transaction (every write to one request holds it)."""
    action = (
        ActionRequest.objects.select_for_update(of=("self",))
        .select_related("requester_agent", "requester_user")
        .filter(pk=action_id)
        .first()
    )
    if action is None:
        raise NotFound("no such action request")
    return action


def screening_fields(decision: Decision) -> dict[str, Any]:
    """A request waiting for screening: policy decides afresh once findings are known."""
    return {
        "policy_version": decision.version,
        "policy_rules": [],
        "policy_effect": "",
        "reveal_allowed": decision.reveal,
    }


def decision_fields(decision: Decision, now: datetime) -> dict[str, Any]:
    """What a decision writes onto a request (besides its status)."""
    final = decision.effect != Effect.REQUIRE_APPROVAL
    return {
        "reveal_allowed": decision.reveal,
        "policy_version": decision.version,
        "policy_rules": list(decision.rules),
        "policy_effect": decision.effect.value,
        "policy_message": decision.message[:500],
        "approvals_required": decision.approvals if not final else 0,
        "requirements": [r.as_dict() for r in decision.requirements] if not final else [],
        "expires_at": now + decision.timeout if decision.timeout and not final else None,
        "grant_spec": decision.grant,
    }


def open_new(action: ActionRequest, decision: Decision, *, held_for_screening: bool) -> None:
    """Give a new, unsaved request its first status: screening while its payload waits
    for a worker, else what policy decided."""
    action.status = (
        ActionStatus.SCREENING if held_for_screening else STATUS_FOR_EFFECT[decision.effect]
    )


def file(
    action: ActionRequest,
    decision: Decision,
    *,
    actor: Principal,
    created: dict[str, Any],
) -> None:
    """Store a new request (opened by ``open_new``) with its reviewer groups when it
    is decided, audited and emitted."""
    status = action.status
    if status != ActionStatus.SCREENING and status != STATUS_FOR_EFFECT[decision.effect]:
        raise ValueError(f"a request decided {decision.effect} cannot be filed as {status}")
    if status in FINAL_STATUSES:
        action.decided_at = action.created_at
    # Held for screening, the groups are every group that could review it once its
    # data classes are known: they may open it while it is screened (nothing of the
    # payload shows), and screening's decision replaces them with the real ones.
    groups = list(
        decision.possible_reviewers if status == ActionStatus.SCREENING else decision.reviewers
    )
    rows = [ActionReviewerGroup(action=action, name=name) for name in groups]
    events: list[tuple[str, Any, str, dict[str, Any] | None]] = [
        (catalogue.ACTION_CREATED, actor, action.audit_target, created)
    ]
    if status in FINAL_STATUSES:
        to = {"from": None, "to": str(status), "rules": list(decision.rules)}
        events.append((STATUS_EVENT[status], "policy", action.audit_target, to))
    # The request, its reviewer groups, its audit events (the creation and, decided at
    # once, the decision) and its domain event's outbox row in one query, which is its
    # own transaction: statements built once (airlock.prepared). The self-service fast
    # path has no reviewer group and, with no consumer for it, no outbox row.
    writes = [prepared.insert_statement(action)]
    if rows:
        writes.append(prepared.insert_statement(*rows))
    pending = dispatch.prepare(action, dispatch.FILED, reviewer_groups=groups)
    if pending is not None and pending.statement is not None:
        writes.append(pending.statement)
    returned: list[list[tuple[Any, ...]]] = []
    # Nested in a caller's transaction: a savepoint. A database that returns no id
    # from an INSERT writes the outbox row on its own, in the same transaction.
    apart = pending is not None and pending.statement is None
    nested = transaction.get_connection().in_atomic_block
    with transaction.atomic() if nested or apart else nullcontext():
        record_all(events, with_statements=writes, returned=returned)
        prepared.inserted(action, *rows)
        if pending is not None:
            # Committed by now unless in a transaction (nested, or apart): the hand-off
            # is queued at once, or at that transaction's commit.
            pending.stored(
                prepared.insert_returning_pk(pending.row) if apart else returned[-1][0][0]
            )
    selectors.know_new(action, rows)


def decide(
    action: ActionRequest,
    decision: Decision,
    *,
    changes: dict[str, Any],
    data: dict[str, Any],
) -> None:
    """Screening's decision on a locked request in ``screening``: the decision's
    fields, its reviewer groups, and the status policy gives, with ``changes`` (the
    screening's own fields) in the same update."""
    now = timezone.now()
    fields = {**changes, **decision_fields(decision, now)}
    ActionReviewerGroup.objects.filter(action=action).exclude(name__in=decision.reviewers).delete()
    ActionReviewerGroup.objects.bulk_create(
        (ActionReviewerGroup(action=action, name=name) for name in decision.reviewers),
        ignore_conflicts=True,
    )
    move(action, STATUS_FOR_EFFECT[decision.effect], actor="policy", data=data, fields=fields)


def move(
    action: ActionRequest,
    to: str,
    *,
    actor: Principal | str,
    data: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
) -> None:
    """Move a locked request to ``to``, writing ``fields`` in the same update."""
    source = action.status
    if to not in TRANSITIONS[source]:
        raise NotPending(f"a {source} request cannot become {to}")
    changes: dict[str, Any] = {**(fields or {}), "status": to}
    if to in FINAL_STATUSES:
        changes["decided_at"] = timezone.now()
    updated = ActionRequest.objects.filter(pk=action.pk, status=source).update(**changes)
    if updated != 1:
        raise NotPending("the request changed while this was being decided")
    for field, value in changes.items():
        setattr(action, field, value)
    # Plain strings, not ActionStatus members: the audit encoder's orjson path takes
    # only plain values (audit.encoding.plain); the bytes are the same either way.
    event = {"from": str(source), "to": str(to), **(data or {})}
    record(STATUS_EVENT[to], actor, action.audit_target, event)
    dispatch.emit(action, dispatch.STATUS, previous=source)


def changed(action: ActionRequest, kind: str) -> None:
    """A change that is not a status change (a review short of the quorum, a payload
    masked after its decision, an outcome): emitted like the rest."""
    dispatch.emit(action, kind)
