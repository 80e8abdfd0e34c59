"""Filing a request: idempotent retries, the payload's digest and seal, and policy's
first decision (the fast path when it cannot depend on what the payload holds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from accounts.models import Agent, User
from airlock import canonical
from airlock.errors import InvalidInput
from approvals import sealing
from approvals.exceptions import IdempotencyConflict
from approvals.models import ActionRequest
from approvals.services import transitions
from approvals.services.facts import facts_of_filing
from policies import services as policy
from policies.decisions import Effect
from sanitization.screening import needs_screening

Principal = User | Agent


@dataclass(frozen=True)
class Submission:
    action: ActionRequest
    created: bool


def _requester_filter(actor: Principal) -> dict[str, Any]:
    return {"requester_agent": actor} if isinstance(actor, Agent) else {"requester_user": actor}


def _replay(actor: Principal, key: str, fingerprint: str) -> Submission | None:
    existing = ActionRequest.objects.filter(idempotency_key=key, **_requester_filter(actor)).first()
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    return Submission(existing, created=False)


def _canonical(data: dict[str, Any]) -> tuple[str, str]:
    """The payload's digest and the body's fingerprint, or a 400 naming the field
    that has no canonical form."""
    try:
        payload_sha256 = canonical.payload_sha256(data.get("payload"))
    except canonical.NotCanonical as exc:
        raise InvalidInput(details={"payload": [f"cannot be canonicalised: {exc}"]}) from exc
    try:
        fingerprint = canonical.fingerprint(data)
    except canonical.NotCanonical as exc:
        field = next(
            (name for name, value in data.items() if not _has_canonical_form(value)), "request"
        )
        raise InvalidInput(details={field: [f"cannot be canonicalised: {exc}"]}) from exc
    return payload_sha256, fingerprint


def _has_canonical_form(value: Any) -> bool:
    try:
        canonical.canonical_bytes(value)
    except canonical.NotCanonical:
        return False
    return True


def submit(
    *, actor: Principal, data: dict[str, Any], idempotency_key: str | None = None
) -> Submission:
    """File a request. ``data`` is validated input (see ``serializers``).

    With an ``idempotency_key``, the same key and body from the same requester return
    the first request; the same key with another body raises ``IdempotencyConflict``.
    """
    payload_sha256, fingerprint = _canonical(data)
    if idempotency_key:
        replay = _replay(actor, idempotency_key, fingerprint)
        if replay:
            return replay

    payload = data.get("payload")
    facts = facts_of_filing(data, agent=actor if isinstance(actor, Agent) else None)
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
    action = ActionRequest(
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
        **(
            transitions.screening_fields(decision)
            if held
            else transitions.decision_fields(decision, now)
        ),
    )
    transitions.open_new(action, decision, held_for_screening=held)
    if unscreened:
        action.payload_sealed = sealing.seal(payload, action.pk)
    created = _created_data(action)
    if decision.errors:
        created["policy_errors"] = [rule for rule, _ in decision.errors]
    try:
        # file() is its own transaction (one query on the fast path).
        transitions.file(action, decision, actor=actor, created=created)
    except IntegrityError:
        # Two retries with one key raced; the other one won. Answer as a replay.
        if idempotency_key:
            replay = _replay(actor, idempotency_key, fingerprint)
            if replay:
                return replay
        raise
    return Submission(action, created=True)


def _created_data(action: ActionRequest) -> dict[str, Any]:
    """What the audit log keeps of a new request: never the payload itself."""
    return {
        "action": action.action,
        "resource": action.resource,
        "environment": action.environment,
        "status": str(action.status),
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
