"""Screening a request's payload: the writes that follow ``filing.submit`` for a
request with a payload.

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

from approvals import dispatch, sealing
from approvals.models import ActionRequest, ActionStatus
from approvals.services import transitions
from approvals.services.facts import facts_of
from audit import catalogue
from audit.services import record
from policies import services as policy
from policies.decisions import BUILTIN_DEFAULT, Decision, Effect
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
        action = transitions.lock(action_id)
        if action.screened:
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
            catalogue.ACTION_SCREENED,
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
        if action.status == ActionStatus.SCREENING:
            decision = _decide(action, result, original)
            transitions.decide(
                action,
                decision,
                changes=changes,
                data={"rules": list(decision.rules), "entities": result.entity_counts()},
            )
        else:
            # Decided at filing (the fast path): only the masked copy arrives now.
            ActionRequest.objects.filter(pk=action.pk).update(**changes)
            for field, value in changes.items():
                setattr(action, field, value)
            transitions.changed(action, dispatch.SCREENED)
    logger.info(
        "screened action %s: complete=%s findings=%d attempt=%d",
        action.pk,
        result.complete,
        len(result.findings),
        attempt,
    )
    return action


def _decide(action: ActionRequest, result: Screening, original: Any) -> Decision:
    decision = policy.decide(facts_of(action, payload=original), result.findings)
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


def stuck_screening(*, older_than: timedelta | None = None, batch: int = 200) -> list[UUID]:
    """Requests still unscreened ``older_than`` after filing (their worker died, or
    their message was lost), oldest first."""
    age = (
        timedelta(seconds=settings.SCREENING["STUCK_AFTER_SECONDS"])
        if older_than is None
        else older_than
    )
    return list(
        ActionRequest.objects.filter(screened_at__isnull=True, created_at__lte=timezone.now() - age)
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch]
    )
