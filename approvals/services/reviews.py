"""Reviews and the other moves of a filed request: approve, deny, cancel, the
requester's outcome, and expiry. Every path (API, console, chat) reviews through
``review``; every status change goes through ``transitions``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import Agent, User
from airlock import canonical
from airlock.errors import InvalidInput
from approvals import dispatch, duties
from approvals.exceptions import (
    AlreadyReported,
    NotApproved,
    NotPending,
    NotRequester,
    ReviewRefused,
)
from approvals.models import ActionRequest, ActionStatus, Review, Verdict
from approvals.services import transitions
from audit import catalogue
from audit.services import record

Principal = User | Agent


def _expire_if_overdue(action: ActionRequest, now: datetime) -> bool:
    if action.status == ActionStatus.PENDING and action.expires_at and action.expires_at <= now:
        transitions.move(action, ActionStatus.EXPIRED, actor="system", data={"reason": "timeout"})
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
        action = transitions.lock(action_id)
        if _expire_if_overdue(action, timezone.now()):
            refusal = NotPending("the request expired before this review")
        else:
            try:
                duties.check_review(action, actor, verdict)
            except ReviewRefused as exc:
                refusal = exc
        if refusal is not None:
            record(
                catalogue.ACTION_REVIEW_REFUSED,
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
        catalogue.ACTION_REVIEWED,
        reviewer,
        action.audit_target,
        {"verdict": verdict, "via": via, "counted_for": counted_for, "progress": progress},
    )
    if verdict == Verdict.DENY:
        transitions.move(action, ActionStatus.DENIED, actor=reviewer, data={"by": "review"})
    elif all(p["approved"] >= p["approvals"] for p in progress):
        transitions.move(action, ActionStatus.APPROVED, actor=reviewer, data={"progress": progress})
    else:
        transitions.changed(action, dispatch.REVIEWED)


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
        action = transitions.lock(action_id)
        if not _is_filer(action, actor):
            refusal = NotRequester("only the requester can cancel a request")
        elif _expire_if_overdue(action, timezone.now()) or not action.is_open:
            refusal = NotPending("the request is already decided")
        else:
            transitions.move(action, ActionStatus.CANCELLED, actor=actor)
        if refusal is not None:
            record(
                catalogue.ACTION_CANCEL_REFUSED,
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
    try:
        detail_digest = canonical.sha256_hex(detail)
    except canonical.NotCanonical as exc:
        raise InvalidInput(details={"detail": [f"cannot be canonicalised: {exc}"]}) from exc
    with transaction.atomic():
        action = transitions.lock(action_id)
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
        record(
            catalogue.ACTION_OUTCOME_REPORTED,
            actor,
            action.audit_target,
            {"result": result, "detail_sha256": detail_digest},
        )
        transitions.changed(action, dispatch.OUTCOME)
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
            action = transitions.lock(action_id)
            if _expire_if_overdue(action, now):
                expired += 1
    return expired
