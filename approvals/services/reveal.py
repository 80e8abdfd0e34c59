"""Revealing a request's original payload: to an eligible reviewer, with a reason,
audited (refusals too)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction

from accounts.models import Agent, User
from airlock.errors import InvalidInput, NotFound
from approvals import duties, sealing
from approvals.exceptions import OriginalNotKept
from approvals.models import ActionRequest
from audit import catalogue
from audit.services import record


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
                catalogue.ACTION_REVEAL_REFUSED,
                actor,
                action.audit_target,
                {"code": refusal.code, "reason": reason},  # type: ignore[attr-defined]
            )
        else:
            record(
                catalogue.ACTION_REVEALED,
                actor,
                action.audit_target,
                {"reason": reason, "payload_sha256": action.payload_sha256},
            )
    if refusal is not None:
        raise refusal
    return original
