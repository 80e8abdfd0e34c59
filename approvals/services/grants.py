"""Redeeming and revoking grants, and taking brokered credentials away.

``redeem`` is single use and race-safe: the request's row lock serialises
redemptions of one grant, and the unique ``jti`` of ``GrantRecord`` is the last
word, so of any number of concurrent redemptions exactly one succeeds. Every
redemption and refusal is audited with the ``jti``, never the token; a refusal is
committed before it is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import roles
from accounts.models import Agent, User
from airlock import canonical
from airlock.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized, Unavailable
from approvals import brokers, grants
from approvals.grants import keys, tokens
from approvals.models import ActionRequest, BrokeredCredential, GrantRecord
from approvals.services import transitions
from audit import catalogue
from audit.services import record
from policies.decisions import DEFAULT_GRANT_AUDIENCE

logger = logging.getLogger(__name__)

NO_PAYLOAD = object()


class InvalidGrant(Unauthorized):
    code = "invalid_grant"
    message = "the grant is not valid"


class AlreadyRedeemed(Conflict):
    code = "already_redeemed"
    message = "the grant was already redeemed"


class GrantRevoked(Conflict):
    code = "grant_revoked"
    message = "the grant was revoked"


class PayloadMismatch(Conflict):
    code = "payload_mismatch"
    message = "the payload is not the one that was approved"


class NoGrant(Conflict):
    code = "no_grant"
    message = "this request has no grant that can be revoked"


class RevokeForbidden(Forbidden):
    code = "permission_denied"
    message = "only an admin or the agent's owner may revoke its grant"


class BrokerUnavailable(Unavailable):
    code = "broker_unavailable"
    message = "the credential broker could not mint a credential; the grant is not used up"


@dataclass(frozen=True)
class Redemption:
    claims: dict[str, Any]
    credential: dict[str, Any] | None


def _refuse(actor: Agent, target: str, jti: str | None, refusal: DomainError, why: str) -> None:
    with transaction.atomic():
        record(
            catalogue.GRANT_REDEEM_REFUSED,
            actor,
            target,
            {"jti": jti, "code": refusal.code, "reason": why[:200]},
        )


def _request_of(claims: dict[str, Any]) -> UUID:
    try:
        return UUID(str(claims["airlock"]["request_id"]))
    except (KeyError, ValueError, TypeError):
        raise InvalidGrant() from None


def redeem(*, token: str, actor: Agent, payload: Any = NO_PAYLOAD) -> Redemption:
    """Check and use up a grant. ``payload``, when the executor passes the one it
    will run, must have the approved ``payload_sha256``."""
    try:
        claims = tokens.verify(
            token,
            keys=keys.verification_keys(),
            audience=[actor.name, DEFAULT_GRANT_AUDIENCE],
            issuer=settings.GRANTS["ISSUER"],
        )
    except tokens.GrantError as exc:
        jti = tokens.unverified_jti(token)
        _refuse(actor, f"grant:{jti or 'unknown'}", jti, InvalidGrant(), exc.reason)
        raise InvalidGrant(f"the grant is not valid: {exc.reason}") from None

    jti = claims["jti"]
    now = timezone.now()
    refusal: DomainError | None = None
    why = ""
    spec: dict[str, Any] | None = None
    with transaction.atomic():
        try:
            action = transitions.lock(_request_of(claims))
        except NotFound:
            refusal, why, action = InvalidGrant(), "no such request", None
        if action is not None:
            spec = grants.spec_of(action)
            existing = grants.record_of(action)
            if grants.claims_for(action) != claims:
                # Signed by our key, yet not what the request as it stands would grant.
                refusal, why = InvalidGrant(), "does not match the approved request"
            elif existing is not None and existing.revoked_at:
                refusal, why = GrantRevoked(), "revoked"
            elif existing is not None:
                refusal, why = AlreadyRedeemed(), "already redeemed"
            elif payload is not NO_PAYLOAD and _digest(payload) != action.payload_sha256:
                refusal, why = PayloadMismatch(), "payload digest differs"
            else:
                try:
                    with transaction.atomic():
                        GrantRecord.objects.create(
                            action=action,
                            jti=jti,
                            expires_at=grants.expiry_of(action, spec),  # type: ignore[arg-type]
                            redeemed_at=now,
                            redeemed_by=actor,
                        )
                except IntegrityError:
                    refusal, why = AlreadyRedeemed(), "already redeemed (raced)"
            if refusal is None:
                record(
                    catalogue.GRANT_REDEEMED,
                    actor,
                    action.audit_target,
                    {
                        "jti": jti,
                        "executor": actor.name,
                        "payload_checked": payload is not NO_PAYLOAD,
                        "broker": _broker_kind(spec),
                    },
                )
        if refusal is not None:
            record(
                catalogue.GRANT_REDEEM_REFUSED,
                actor,
                action.audit_target if action is not None else f"grant:{jti}",
                {"jti": jti, "code": refusal.code, "reason": why},
            )
    if refusal is not None:
        raise refusal
    assert action is not None
    assert spec is not None
    credential = _mint(action, spec, claims, actor) if spec.get("broker") else None
    return Redemption(claims=claims, credential=credential)


def _digest(payload: Any) -> str | None:
    try:
        return canonical.payload_sha256(payload)
    except canonical.NotCanonical:
        return None


def _broker_kind(spec: dict[str, Any] | None) -> str | None:
    return ((spec or {}).get("broker") or {}).get("broker")


def _mint(
    action: ActionRequest, spec: dict[str, Any], claims: dict[str, Any], actor: Agent
) -> dict[str, Any]:
    """Mint the rule's credential after the redemption committed. If the broker
    fails, the redemption is undone (the executor may try again) and the failure
    audited; a credential minted but not recorded still expires on its own."""
    options = dict(spec["broker"])
    kind = options.pop("broker")
    context = brokers.GrantContext(
        jti=claims["jti"],
        request_id=str(action.pk),
        agent=action.requester_agent.name,  # type: ignore[union-attr]
        action=action.action,
        resource=action.resource,
        expires_at=grants.expiry_of(action, spec),
    )
    try:
        issued = brokers.get(kind).mint(context, options)
    except brokers.BrokerError as exc:
        with transaction.atomic():
            GrantRecord.objects.filter(
                action=action, redeemed_by=actor, revoked_at__isnull=True
            ).delete()
            record(
                catalogue.CREDENTIAL_ISSUE_FAILED,
                "system",
                action.audit_target,
                {"jti": context.jti, "broker": kind, "error": str(exc)[:200]},
            )
        logger.warning("broker %s could not mint for grant %s: %s", kind, context.jti, exc)
        raise BrokerUnavailable() from None
    with transaction.atomic():
        BrokeredCredential.objects.create(
            action=action,
            jti=context.jti,
            broker=kind,
            handle=issued.handle,
            scope=issued.scope,
            expires_at=issued.expires_at,
        )
        record(
            catalogue.CREDENTIAL_ISSUED,
            "system",
            action.audit_target,
            {
                "jti": context.jti,
                "broker": kind,
                "handle": issued.handle,
                "scope": issued.scope,
                "expires_at": issued.expires_at.isoformat(),
            },
        )
    return issued.secret


def revoke(*, action_id: UUID, actor: User, reason: str) -> ActionRequest:
    """Revoke an approved request's grant (unredeemed, or redeemed with a live
    credential, which is then taken away). An admin or the agent's owner."""
    refusal: DomainError | None = None
    now = timezone.now()
    with transaction.atomic():
        action = transitions.lock(action_id)
        spec = grants.spec_of(action)
        existing = grants.record_of(action)
        agent = action.requester_agent
        if agent is None:
            refusal = NoGrant()  # a person's own request: grants are for agents
        elif not (roles.is_admin(actor) or roles.owns(actor, agent)):
            refusal = RevokeForbidden()
        elif spec is None:
            refusal = NoGrant()
        elif existing is not None and existing.revoked_at:
            refusal = NoGrant("the grant is already revoked")
        elif grants.expiry_of(action, spec) <= now:
            refusal = NoGrant("the grant has expired")
        if refusal is not None:
            record(
                catalogue.GRANT_REVOKE_REFUSED,
                actor,
                action.audit_target,
                {"jti": tokens.jti_for(action.pk), "code": refusal.code},
            )
        else:
            assert spec is not None
            if existing is None:
                GrantRecord.objects.create(
                    action=action,
                    jti=tokens.jti_for(action.pk),
                    expires_at=grants.expiry_of(action, spec),
                    revoked_at=now,
                    revoked_by=f"user:{actor.email}",
                    revoke_reason=reason,
                )
            else:
                GrantRecord.objects.filter(pk=existing.pk, revoked_at__isnull=True).update(
                    revoked_at=now, revoked_by=f"user:{actor.email}", revoke_reason=reason
                )
            record(
                catalogue.GRANT_REVOKED,
                actor,
                action.audit_target,
                {
                    "jti": tokens.jti_for(action.pk),
                    "reason": reason,
                    "was_redeemed": existing is not None and existing.redeemed_at is not None,
                },
            )
            transaction.on_commit(_revoke_soon(action.pk))
    if refusal is not None:
        raise refusal
    action.refresh_from_db()
    return action


def _revoke_soon(action_id: UUID) -> Callable[[], None]:
    """After the revocation commits, take its live credentials away at once; if a
    broker fails now, the beat sweep (``approvals.sweep_credentials``) tries again."""

    def take_away() -> None:
        try:
            sweep_credentials(action_id=action_id)
        except Exception as exc:
            logger.warning("credentials of %s are left to the sweep: %s", action_id, exc)

    return take_away


def sweep_credentials(*, now: datetime | None = None, action_id: UUID | None = None) -> int:
    """Take away every brokered credential past its expiry or whose grant was
    revoked. Idempotent (a broker's revoke of what is gone is a no-op). Returns how
    many were revoked."""
    now = now or timezone.now()
    due = BrokeredCredential.objects.filter(revoked_at__isnull=True).filter(
        Q(expires_at__lte=now) | Q(action__grant_record__revoked_at__isnull=False)
    )
    if action_id is not None:
        due = due.filter(action_id=action_id)
    revoked = 0
    for credential in due.order_by("expires_at")[:500]:
        reason = "expired" if credential.expires_at <= now else "grant revoked"
        try:
            brokers.get(credential.broker).revoke(
                credential.handle, credential.scope, expired=credential.expires_at <= now
            )
        except brokers.BrokerError as exc:
            BrokeredCredential.objects.filter(pk=credential.pk).update(
                revoke_attempts=credential.revoke_attempts + 1, last_error=str(exc)[:500]
            )
            logger.error(
                "could not revoke %s credential %s: %s", credential.broker, credential.handle, exc
            )
            continue
        with transaction.atomic():
            updated = BrokeredCredential.objects.filter(
                pk=credential.pk, revoked_at__isnull=True
            ).update(revoked_at=now, last_error="")
            if updated:
                record(
                    catalogue.CREDENTIAL_REVOKED,
                    "system",
                    f"action:{credential.action_id}",
                    {
                        "jti": credential.jti,
                        "broker": credential.broker,
                        "handle": credential.handle,
                        "reason": reason,
                    },
                )
                revoked += 1
    return revoked
