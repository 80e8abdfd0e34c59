"""Screening a request's payload, and revealing its original: the writes that follow
``services.submit`` for a request with a payload.

``complete_screening`` runs in a Celery worker. It counts its attempt in a committed
transaction first, so a worker killed mid-screening leaves a trace the sweep reads;
screens outside any transaction (it can take seconds); then, under the row lock,
stores the masked copy and findings, erases or keeps the sealed original, and lets
policy decide with the data classes found. A payload that cannot be screened (over
budget, unreadable, or after ``MAX_ATTEMPTS`` workers died on it) is withheld and
the request is held for human review: never passed unscreened.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Agent, User
from airlock.errors import InvalidInput, NotFound
from approvals import duties, events, sealing
from approvals.exceptions import OriginalNotKept
from approvals.models import ActionRequest, ActionReviewerGroup, ActionStatus
from approvals.services import _STATUS_FOR_EFFECT, _decision_fields, _lock, _transition
from audit.services import record
from policies import services as policy
from policies.decisions import BUILTIN_DEFAULT, Decision, Effect, RequestFacts
from sanitization.screening import Screening, screen

logger = logging.getLogger(__name__)

HOLD_RULE = "screening-incomplete"


def _start_attempt(action_id: UUID) -> int | None:
    """Count this attempt (committed at once); ``None`` when already screened."""
    with transaction.atomic():
        updated = ActionRequest.objects.filter(pk=action_id, screened_at__isnull=True).update(
            screening_attempts=F("screening_attempts") + 1
        )
        if not updated:
            return None
        return ActionRequest.objects.values_list("screening_attempts", flat=True).get(pk=action_id)


def _original(action: ActionRequest) -> Any:
    if action.payload_sealed is not None:
        return sealing.unseal(action.payload_sealed, action.pk)
    # Filed before screening existed: the stored payload is the original.
    return action.payload


def complete_screening(*, action_id: UUID) -> ActionRequest | None:
    """Screen one request's payload and decide it. Safe to run twice, or concurrently."""
    attempt = _start_attempt(action_id)
    if attempt is None:
        return None
    action = ActionRequest.objects.get(pk=action_id)
    original: Any = None
    if attempt > settings.SCREENING["MAX_ATTEMPTS"]:
        result = Screening(None, [], False, f"screening did not finish in {attempt - 1} attempts")
    else:
        try:
            original = _original(action)
        except sealing.SealError as exc:
            result = Screening(None, [], False, f"the original cannot be read: {exc}")
        else:
            result = screen(original)
    return _finish(action_id, result, original, attempt)


def _finish(action_id: UUID, result: Screening, original: Any, attempt: int) -> ActionRequest:
    now = timezone.now()
    with transaction.atomic():
        action = _lock(action_id)
        if action.screened_at is not None:
            return action  # another worker finished first
        # Kept under a reveal key whether or not screening completed: a withheld
        # payload is then still readable, through the audited reveal.
        keep = sealing.sealed_for_reveal(action.payload_sealed)
        changes: dict[str, Any] = {
            "payload": result.masked,
            "findings": result.findings,
            "screened_at": now,
            "screening_note": result.reason[:200],
            "payload_sealed": action.payload_sealed if keep else None,
            "original_kept": keep,
        }
        record(
            "action.screened",
            "system",
            action.audit_target,
            {
                "complete": result.complete,
                "reason": result.reason or None,
                "entities": result.entity_counts(),
                "attempt": attempt,
                "original_kept": keep,
                "texts": result.stats.get("texts"),
                "chars": result.stats.get("chars"),
                "ms": round(1000 * result.stats["seconds"]) if "seconds" in result.stats else None,
            },
        )
        decision: Decision | None = None
        if action.status == ActionStatus.SCREENING:
            decision = _decide(action, result, original)
            changes.update(_decision_fields(decision, now))
            changes.pop("decided_at")  # _transition sets it, for final states
        ActionRequest.objects.filter(pk=action.pk).update(**changes)
        for field, value in changes.items():
            setattr(action, field, value)
        if decision is None:
            events.action_changed(action.pk, duties.reviewer_group_names(action))
        else:
            ActionReviewerGroup.objects.bulk_create(
                ActionReviewerGroup(action=action, name=name) for name in decision.reviewers
            )
            _transition(
                action,
                _STATUS_FOR_EFFECT[decision.effect],
                actor="policy",
                data={"rules": list(decision.rules), "entities": result.entity_counts()},
            )
    logger.info(
        "screened action %s: complete=%s findings=%d attempt=%d",
        action.pk,
        result.complete,
        len(result.findings),
        attempt,
    )
    return action


def _decide(action: ActionRequest, result: Screening, original: Any) -> Decision:
    facts = RequestFacts(
        action=action.action,
        resource=action.resource,
        environment=action.environment,
        agent=action.requester_agent.name if action.requester_agent else None,
        payload=original,
        context=action.context,
        justification=action.justification,
    )
    decision = policy.decide(facts, result.findings)
    if result.complete or decision.effect != Effect.ALLOW:
        if not result.complete:
            note = f"payload not screened ({result.reason}); held"
            decision = replace(decision, message="; ".join(filter(None, [decision.message, note])))
        return decision
    # Unscreened data classes could have required approval: a person decides.
    return replace(
        decision,
        effect=Effect.REQUIRE_APPROVAL,
        requirements=tuple(
            replace(requirement, rule=HOLD_RULE) for requirement in BUILTIN_DEFAULT.requirements
        ),
        timeout=BUILTIN_DEFAULT.timeout,
        rules=(*decision.rules, HOLD_RULE),
        message=f"held for review: the payload could not be screened ({result.reason})",
    )


def resume_stuck_screening(*, older_than: timedelta | None = None, batch: int = 200) -> int:
    """Enqueue again every request still unscreened after ``older_than`` (its worker
    died, or its message was lost). Returns how many were enqueued."""
    from approvals.tasks import screen_action

    age = (
        timedelta(seconds=settings.SCREENING["STUCK_AFTER_SECONDS"])
        if older_than is None
        else older_than
    )
    stuck = list(
        ActionRequest.objects.filter(screened_at__isnull=True, created_at__lte=timezone.now() - age)
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch]
    )
    for action_id in stuck:
        screen_action.delay(str(action_id))
    if stuck:
        logger.warning("re-enqueued %d requests stuck in screening", len(stuck))
    return len(stuck)


def reveal(*, action_id: UUID, actor: User | Agent, reason: str) -> Any:
    """The original payload, for an eligible reviewer who gives a reason. Audited,
    refusals too."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "a reason is required to reveal", details={"reason": ["a reason is required"]}
        )
    refusal: Exception | None = None
    original: Any = None
    with transaction.atomic():
        action = (
            ActionRequest.objects.select_related("requester_agent").filter(pk=action_id).first()
        )
        if action is None:
            raise NotFound("no such action request")
        refusal = duties.reveal_refusal(action, actor)
        if refusal is None:
            try:
                original = sealing.unseal(action.payload_sealed, action.pk)  # type: ignore[arg-type]
            except sealing.SealError as exc:
                refusal = OriginalNotKept(str(exc))
        if refusal is not None:
            record(
                "action.reveal_refused",
                actor,
                action.audit_target,
                {"code": refusal.code, "reason": reason},  # type: ignore[attr-defined]
            )
        else:
            record(
                "action.revealed",
                actor,
                action.audit_target,
                {"reason": reason, "payload_sha256": action.payload_sha256},
            )
    if refusal is not None:
        raise refusal
    return original
