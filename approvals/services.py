"""Every write to action requests. The state machine lives here, in ``_transition``:
each transition is checked against ``TRANSITIONS``, made with a conditional update,
audited in the same transaction, and published after commit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Agent, User
from airlock.errors import InvalidInput, NotFound
from approvals import duties, events, sealing
from approvals.exceptions import (
    AlreadyReported,
    IdempotencyConflict,
    NotApproved,
    NotPending,
    NotRequester,
    ReviewRefused,
)
from approvals.models import (
    TRANSITIONS,
    ActionRequest,
    ActionReviewerGroup,
    ActionStatus,
    Review,
    Verdict,
)
from approvals.validation import canonical_sha256
from audit.services import record
from policies import services as policy
from policies.decisions import Decision, Effect, RequestFacts
from sanitization.screening import needs_screening

Principal = User | Agent

_STATUS_FOR_EFFECT = {
    Effect.ALLOW: ActionStatus.APPROVED,
    Effect.DENY: ActionStatus.DENIED,
    Effect.REQUIRE_APPROVAL: ActionStatus.PENDING,
}


@dataclass(frozen=True)
class Submission:
    action: ActionRequest
    created: bool


def _fingerprint(data: dict[str, Any]) -> str:
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _requester_filter(actor: Principal) -> dict[str, Any]:
    return {"requester_agent": actor} if isinstance(actor, Agent) else {"requester_user": actor}


def _replay(actor: Principal, key: str, fingerprint: str) -> Submission | None:
    existing = ActionRequest.objects.filter(idempotency_key=key, **_requester_filter(actor)).first()
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    return Submission(existing, created=False)


def submit(
    *, actor: Principal, data: dict[str, Any], idempotency_key: str | None = None
) -> Submission:
    """File a request. ``data`` is validated input (see ``serializers``).

    With an ``idempotency_key``, the same key and body from the same requester return
    the first request; the same key with another body raises ``IdempotencyConflict``.
    """
    fingerprint = _fingerprint(data)
    if idempotency_key:
        replay = _replay(actor, idempotency_key, fingerprint)
        if replay:
            return replay

    payload = data.get("payload")
    try:
        payload_sha256 = canonical_sha256(payload)
    except ValueError as exc:
        raise InvalidInput(details={"payload": [f"cannot be canonicalised: {exc}"]}) from exc

    facts = RequestFacts(
        action=data["action"],
        resource=data["resource"],
        environment=data.get("environment", ""),
        agent=actor.name if isinstance(actor, Agent) else None,
        payload=payload,
        context=data.get("context") or {},
        justification=data.get("justification", ""),
    )
    decision = policy.decide(facts)
    now = timezone.now()
    unscreened = needs_screening(payload)
    # Nobody sees a payload, and no decision that could depend on it is made, before
    # a worker has screened it. Only a deny (findings never loosen one) or an allow
    # that no data_classes rule could change is final at once: the fast path.
    held = (
        unscreened
        and decision.effect != Effect.DENY
        and (decision.depends_on_findings or decision.effect == Effect.REQUIRE_APPROVAL)
    )
    status = ActionStatus.SCREENING if held else _STATUS_FOR_EFFECT[decision.effect]
    action = ActionRequest(
        status=status,
        action=facts.action,
        resource=facts.resource,
        environment=facts.environment,
        payload=None if unscreened else payload,
        payload_sha256=payload_sha256,
        screened_at=None if unscreened else now,
        justification=facts.justification,
        on_behalf_of=data.get("on_behalf_of", ""),
        callback_url=data.get("callback_url", ""),
        context=facts.context,
        requester_agent=actor if isinstance(actor, Agent) else None,
        requester_user=actor if isinstance(actor, User) else None,
        requester_owner=actor.owner if isinstance(actor, Agent) else None,
        idempotency_key=idempotency_key or None,
        request_fingerprint=fingerprint,
        created_at=now,
        **(_screening_fields(decision) if held else _decision_fields(decision, now)),
    )
    if unscreened:
        action.payload_sealed = sealing.seal(payload, action.pk)
    try:
        with transaction.atomic():
            action.save(force_insert=True)
            if not held:
                ActionReviewerGroup.objects.bulk_create(
                    ActionReviewerGroup(action=action, name=name) for name in decision.reviewers
                )
            created = _created_data(action)
            if decision.errors:
                created["policy_errors"] = [rule for rule, _ in decision.errors]
            record("action.created", actor, action.audit_target, created)
            if status in (ActionStatus.APPROVED, ActionStatus.DENIED):
                record(
                    f"action.{status}",
                    "policy",
                    action.audit_target,
                    {"from": None, "to": status, "rules": list(decision.rules)},
                )
            if status == ActionStatus.PENDING:
                events.action_changed(action.pk, decision.reviewers, events.ACTION_CREATED)
            if unscreened:
                _enqueue_screening(action.pk)
    except IntegrityError:
        # Two retries with one key raced; the other one won. Answer as a replay.
        if idempotency_key:
            replay = _replay(actor, idempotency_key, fingerprint)
            if replay:
                return replay
        raise
    return Submission(action, created=True)


def _enqueue_screening(action_id: UUID) -> None:
    from approvals.tasks import screen_action

    # After commit, so the worker finds the row; a lost message is found by the sweep.
    transaction.on_commit(lambda: screen_action.delay(str(action_id)), robust=True)


def _screening_fields(decision: Decision) -> dict[str, Any]:
    """A request waiting for screening: policy decides afresh once findings are known."""
    return {
        "policy_version": decision.version,
        "policy_rules": [],
        "policy_effect": "",
        "reveal_allowed": decision.reveal,
    }


def _decision_fields(decision: Decision, now: datetime) -> dict[str, Any]:
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
        "decided_at": now if final else None,
    }


def _created_data(action: ActionRequest) -> dict[str, Any]:
    """What the audit log keeps of a new request: never the payload itself."""
    return {
        "action": action.action,
        "resource": action.resource,
        "environment": action.environment,
        "status": action.status,
        "payload_sha256": action.payload_sha256,
        "on_behalf_of": action.on_behalf_of or None,
        "policy": {
            "version": action.policy_version,
            "rules": action.policy_rules,
            "effect": action.policy_effect,
        },
        "requirements": action.requirements,
        "expires_at": action.expires_at.isoformat() if action.expires_at else None,
    }


def _lock(action_id: UUID) -> ActionRequest:
    action = (
        ActionRequest.objects.select_for_update(of=("self",))
        .select_related("requester_agent", "requester_user")
        .filter(pk=action_id)
        .first()
    )
    if action is None:
        raise NotFound("no such action request")
    return action


def _transition(
    action: ActionRequest, to: str, *, actor: Principal | str, data: dict[str, Any] | None = None
) -> None:
    """Move a locked request to ``to``. The only place that changes ``status``."""
    source = action.status
    if to not in TRANSITIONS[source]:
        raise NotPending(f"a {source} request cannot become {to}")
    now = timezone.now()
    changes: dict[str, Any] = {"status": to}
    if to not in (ActionStatus.SCREENING, ActionStatus.PENDING):
        changes["decided_at"] = now
    updated = ActionRequest.objects.filter(pk=action.pk, status=source).update(**changes)
    if updated != 1:
        raise NotPending("the request changed while this was being decided")
    for field, value in changes.items():
        setattr(action, field, value)
    record(
        f"action.{to}",
        actor,
        action.audit_target,
        {"from": source, "to": to, **(data or {})},
    )
    events.action_changed(action.pk, duties.reviewer_group_names(action))


def _expire_if_overdue(action: ActionRequest, now: datetime) -> bool:
    if action.status == ActionStatus.PENDING and action.expires_at and action.expires_at <= now:
        _transition(action, ActionStatus.EXPIRED, actor="system", data={"reason": "timeout"})
        return True
    return False


def review(
    *, action_id: UUID, actor: Principal, verdict: str, comment: str = "", via: str = "api"
) -> ActionRequest:
    """Approve or deny. Every path (API, console, chat) comes through here.

    The row lock serialises reviewers of one request: of two people taking the last
    approval slot at once, one approves the request and the other finds it decided.
    A refused review is audited, and the refusal committed, before it is raised.
    """
    refusal: ReviewRefused | None = None
    with transaction.atomic():
        action = _lock(action_id)
        if _expire_if_overdue(action, timezone.now()):
            refusal = NotPending("the request expired before this review")
        else:
            try:
                duties.check_review(action, actor, verdict)
            except ReviewRefused as exc:
                refusal = exc
        if refusal is not None:
            record(
                "action.review_refused",
                actor,
                action.audit_target,
                {"verdict": verdict, "code": refusal.code, "via": via},  # type: ignore[attr-defined]
            )
        else:
            _record_review(action, actor, verdict, comment, via)  # type: ignore[arg-type]
    if refusal is not None:
        raise refusal
    return action


def _record_review(
    action: ActionRequest, reviewer: User, verdict: str, comment: str, via: str
) -> None:
    groups = reviewer.group_names()
    counted_for = [
        index
        for index, requirement in enumerate(action.requirements)
        if verdict == Verdict.APPROVE and groups & set(requirement["reviewers"])
    ]
    Review.objects.create(
        action=action,
        reviewer=reviewer,
        verdict=verdict,
        comment=comment,
        via=via,
        counted_for=counted_for,
    )
    progress = action.progress(action.reviews.all())
    record(
        "action.reviewed",
        reviewer,
        action.audit_target,
        {"verdict": verdict, "via": via, "counted_for": counted_for, "progress": progress},
    )
    if verdict == Verdict.DENY:
        _transition(action, ActionStatus.DENIED, actor=reviewer, data={"by": "review"})
    elif all(p["approved"] >= p["approvals"] for p in progress):
        _transition(action, ActionStatus.APPROVED, actor=reviewer, data={"progress": progress})
    else:
        events.action_changed(action.pk, duties.reviewer_group_names(action))


def approve(
    *, action_id: UUID, actor: Principal, comment: str = "", via: str = "api"
) -> ActionRequest:
    return review(
        action_id=action_id, actor=actor, verdict=Verdict.APPROVE, comment=comment, via=via
    )


def deny(*, action_id: UUID, actor: Principal, reason: str, via: str = "api") -> ActionRequest:
    if not reason.strip():
        raise InvalidInput(
            "a reason is required to deny", details={"reason": ["a reason is required to deny"]}
        )
    return review(action_id=action_id, actor=actor, verdict=Verdict.DENY, comment=reason, via=via)


def _is_filer(action: ActionRequest, actor: Principal) -> bool:
    if isinstance(actor, Agent):
        return action.requester_agent_id == actor.pk
    return action.requester_user_id == actor.pk


def cancel(*, action_id: UUID, actor: Principal) -> ActionRequest:
    """The requester withdraws a request that is not decided yet."""
    refusal: Exception | None = None
    with transaction.atomic():
        action = _lock(action_id)
        if not _is_filer(action, actor):
            refusal = NotRequester("only the requester can cancel a request")
        elif _expire_if_overdue(action, timezone.now()) or not action.is_open:
            refusal = NotPending("the request is already decided")
        else:
            _transition(action, ActionStatus.CANCELLED, actor=actor)
        if refusal is not None:
            record(
                "action.cancel_refused",
                actor,
                action.audit_target,
                {"code": refusal.code},  # type: ignore[attr-defined]
            )
    if refusal is not None:
        raise refusal
    return action


def report_outcome(
    *, action_id: UUID, actor: Principal, result: str, detail: Any = None
) -> ActionRequest:
    """The requester says what happened after acting on an approved request."""
    with transaction.atomic():
        action = _lock(action_id)
        if not _is_filer(action, actor):
            raise NotRequester("only the requester can report an outcome")
        if action.status != ActionStatus.APPROVED:
            raise NotApproved()
        if action.outcome:
            raise AlreadyReported()
        now = timezone.now()
        ActionRequest.objects.filter(pk=action.pk).update(
            outcome=result, outcome_detail=detail, outcome_at=now
        )
        action.outcome, action.outcome_detail, action.outcome_at = result, detail, now
        detail_digest = hashlib.sha256(
            json.dumps(detail, sort_keys=True).encode("utf-8")
        ).hexdigest()
        record(
            "action.outcome_reported",
            actor,
            action.audit_target,
            {"result": result, "detail_sha256": detail_digest},
        )
        events.action_changed(action.pk, duties.reviewer_group_names(action))
    return action


def expire_overdue(*, now: datetime | None = None, batch: int = 500) -> int:
    """Expire pending requests past their deadline. Never approves anything."""
    now = now or timezone.now()
    expired = 0
    overdue = list(
        ActionRequest.objects.filter(status=ActionStatus.PENDING, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:batch]
    )
    for action_id in overdue:
        with transaction.atomic():
            action = _lock(action_id)
            if _expire_if_overdue(action, now):
                expired += 1
    return expired
