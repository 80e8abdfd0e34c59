"""Grants: what an approved request hands its requesting agent.

A grant is a pure function of the approved request (``claims_for``): its ``jti``
comes from the request id, ``iat``/``nbf``/``exp`` from ``decided_at`` and the
rule's ``grant_ttl``, the rest from what was approved. So approving writes nothing
more than the decision, and the token is signed when the requesting agent reads the
request (``token_for``). What happens to it afterwards (redeemed, revoked) is a
``GrantRecord`` row, written by ``approvals.services.grants``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from accounts.models import Agent, User
from approvals.grants import keys, tokens
from approvals.models import ActionRequest, ActionStatus, GrantRecord, Verdict


def spec_of(action: ActionRequest) -> dict[str, Any] | None:
    """The grant an approval of ``action`` issues, or None (not approved, filed by a
    person, or rules that disagree on the grant)."""
    spec = action.grant_spec
    if (
        action.status != ActionStatus.APPROVED
        or action.requester_agent_id is None
        or action.decided_at is None
        or not spec
        or "refused" in spec
    ):
        return None
    return spec


def expiry_of(action: ActionRequest, spec: dict[str, Any]) -> datetime:
    issued = action.decided_at.replace(microsecond=0)  # type: ignore[union-attr]
    return issued + timedelta(seconds=int(spec["ttl"]))


def claims_for(action: ActionRequest) -> dict[str, Any] | None:
    """The claims of ``action``'s grant (API.md "Grants"), or None when it has none.
    Reads the request's agent and reviews (prefetched by the selectors)."""
    spec = spec_of(action)
    if spec is None:
        return None
    issued = int(action.decided_at.replace(microsecond=0).timestamp())  # type: ignore[union-attr]
    approvers = sorted(
        review.reviewer.email
        for review in action.reviews.all()
        if review.verdict == Verdict.APPROVE
    )
    claims: dict[str, Any] = {
        "iss": settings.GRANTS["ISSUER"],
        "sub": f"agent:{action.requester_agent.name}",  # type: ignore[union-attr]
        "aud": spec["audience"],
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(spec["ttl"]),
        "jti": tokens.jti_for(action.pk),
        "airlock": {
            "request_id": str(action.pk),
            "action": action.action,
            "resource": action.resource,
            "environment": action.environment,
            "payload_sha256": action.payload_sha256,
            "policy_version": action.policy_version,
            "approvers": approvers,
        },
    }
    if action.on_behalf_of:
        claims["act"] = {"sub": f"user:{action.on_behalf_of}"}
    return claims


def record_of(action: ActionRequest) -> GrantRecord | None:
    try:
        return action.grant_record
    except ObjectDoesNotExist:
        return None


def token_for(action: ActionRequest, principal: User | Agent | Any) -> str | None:
    """The signed grant, for the requesting agent only, while it can still be
    redeemed. Everyone else (its owner, reviewers, other agents) gets None."""
    if not isinstance(principal, Agent) or principal.pk != action.requester_agent_id:
        return None
    claims = claims_for(action)
    key = keys.signing_key()
    if claims is None or key is None or claims["exp"] <= timezone.now().timestamp():
        return None
    record = record_of(action)
    if record is not None and (record.redeemed_at or record.revoked_at):
        return None
    return tokens.sign(claims, key)


def state_of(action: ActionRequest, now: datetime | None = None) -> dict[str, Any] | None:
    """What anyone who may see the request may know of its grant: never the token."""
    spec = spec_of(action)
    if spec is None:
        refused = (action.grant_spec or {}).get("refused")
        if action.status == ActionStatus.APPROVED and refused:
            return {"status": "none", "reason": refused}
        return None
    now = now or timezone.now()
    record = record_of(action)
    expires_at = expiry_of(action, spec)
    state: dict[str, Any] = {
        "status": "issued",
        "jti": tokens.jti_for(action.pk),
        "audience": spec["audience"],
        "broker": (spec.get("broker") or {}).get("broker"),
        "expires_at": expires_at,
        "redeemed_at": None,
        "redeemed_by": None,
        "revoked_at": None,
        "revoked_by": None,
    }
    if record is not None:
        state.update(
            redeemed_at=record.redeemed_at,
            redeemed_by=record.redeemed_by.name if record.redeemed_by_id else None,  # type: ignore[union-attr]
            revoked_at=record.revoked_at,
            revoked_by=record.revoked_by or None,
        )
    if state["revoked_at"]:
        state["status"] = "revoked"
    elif state["redeemed_at"]:
        state["status"] = "redeemed"
    elif expires_at <= now:
        state["status"] = "expired"
    return state
