"""Every audit event type, declared once: its name, what it means, and the SOC 2
Trust Services Criteria it evidences. ``audit.services.record`` refuses a type that
is not declared here, so the log never holds a type nobody can explain, and an
evidence report maps each event to a control from this table alone.

Callers name the constants (``catalogue.ACTION_APPROVED``), never a literal. The
criteria follow the analysis in the project's SOC 2 reference: CC6.1 logical access
is enforced, CC6.2 credentials are registered and removed, CC6.3 least privilege and
segregation of duties, CC7.2 anomalies are detected, CC8.1 changes are authorised
before they are made, CC4.1 the controls themselves are monitored.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    criteria: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


CATALOGUE: dict[str, EventType] = {}


class UndeclaredEventType(ValueError):
    """``record`` was asked to write a type missing from the catalogue."""


def declare(name: str, description: str, *criteria: str) -> str:
    if name in CATALOGUE:
        raise ValueError(f"audit event type {name!r} is declared twice")
    CATALOGUE[name] = EventType(name, description, criteria)
    return name


def get(name: str) -> EventType:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UndeclaredEventType(f"audit event type {name!r} is not declared") from None


def names() -> list[str]:
    return sorted(CATALOGUE)


# --- action requests ------------------------------------------------------------------

ACTION_CREATED = declare(
    "action.created", "An agent or a person filed a privileged action.", "CC8.1", "CC6.1"
)
ACTION_SCREENED = declare(
    "action.screened",
    "A worker screened the payload for personal data and secrets (counts, never values).",
    "CC6.1",
)
ACTION_PENDING = declare(
    "action.pending", "Policy held the request for human approval.", "CC8.1", "CC6.3"
)
ACTION_APPROVED = declare(
    "action.approved",
    "The request was approved: by policy (self-service) or by its quorum of reviewers.",
    "CC8.1",
    "CC6.1",
)
ACTION_DENIED = declare(
    "action.denied", "The request was denied: by policy or by a reviewer.", "CC8.1", "CC7.2"
)
ACTION_EXPIRED = declare(
    "action.expired", "Nobody decided the request before its deadline.", "CC8.1", "CC7.2"
)
ACTION_CANCELLED = declare(
    "action.cancelled", "The requester withdrew the request before a decision.", "CC8.1"
)
ACTION_REVIEWED = declare(
    "action.reviewed",
    "A reviewer who is not the requester approved or denied, with the requirements it counted for.",
    "CC8.1",
    "CC6.3",
)
ACTION_REVIEW_REFUSED = declare(
    "action.review_refused",
    "A review was refused: self-approval, not a reviewer, twice, or no longer pending.",
    "CC6.3",
    "CC7.2",
)
ACTION_CANCEL_REFUSED = declare(
    "action.cancel_refused",
    "A cancellation by someone other than the requester, or too late.",
    "CC7.2",
)
ACTION_OUTCOME_REPORTED = declare(
    "action.outcome_reported",
    "The requester reported what happened after acting on an approval (a digest of the detail).",
    "CC8.1",
)
ACTION_REVEALED = declare(
    "action.revealed",
    "An eligible reviewer revealed the original payload, with a reason.",
    "CC6.1",
    "CC6.3",
)
ACTION_REVEAL_REFUSED = declare(
    "action.reveal_refused", "A reveal of an original payload was refused.", "CC6.1", "CC7.2"
)

# --- grants and brokered credentials --------------------------------------------------

GRANT_REDEEMED = declare(
    "grant.redeemed",
    "An executor redeemed an approved request's grant, once (the jti, never the token).",
    "CC8.1",
    "CC6.1",
)
GRANT_REDEEM_REFUSED = declare(
    "grant.redeem_refused",
    "A redemption was refused: bad signature, wrong audience, expired, replayed, revoked, "
    "or a payload other than the approved one.",
    "CC6.1",
    "CC7.2",
)
GRANT_REVOKED = declare(
    "grant.revoked", "An admin or the agent's owner revoked a grant, with a reason.", "CC6.2"
)
GRANT_REVOKE_REFUSED = declare(
    "grant.revoke_refused",
    "A revocation by someone who may not revoke, or of a grant that cannot be.",
    "CC6.2",
    "CC7.2",
)
CREDENTIAL_ISSUED = declare(
    "credential.issued",
    "A broker minted a temporary credential scoped to the approved resource (its handle "
    "and expiry, never the secret).",
    "CC6.1",
    "CC6.2",
    "CC6.3",
)
CREDENTIAL_ISSUE_FAILED = declare(
    "credential.issue_failed",
    "A broker could not mint the credential of a redemption; the grant stays unredeemed.",
    "CC7.2",
)
CREDENTIAL_REVOKED = declare(
    "credential.revoked",
    "A brokered credential was taken away: at its expiry, or because its grant was revoked.",
    "CC6.2",
)

# --- policies -------------------------------------------------------------------------

POLICY_PROPOSED = declare("policy.proposed", "An admin proposed a new policy version.", "CC8.1")
POLICY_ACTIVATED = declare(
    "policy.activated",
    "A policy version became active (approved by a second admin, or single-admin mode).",
    "CC8.1",
    "CC6.3",
)
POLICY_SUPERSEDED = declare("policy.superseded", "A policy version stopped being active.", "CC8.1")
POLICY_REJECTED = declare("policy.rejected", "A proposed policy version was rejected.", "CC8.1")
POLICY_APPROVAL_REFUSED = declare(
    "policy.approval_refused",
    "An approval of a policy version was refused (its author, or not an admin).",
    "CC6.3",
    "CC7.2",
)

# --- people, agents, credentials ------------------------------------------------------

USER_CREATED = declare("user.created", "A person was registered.", "CC6.2")
USER_UPDATED = declare(
    "user.updated", "A person's details or groups (roles) changed.", "CC6.2", "CC6.3"
)
AGENT_CREATED = declare(
    "agent.created", "An agent was registered with an owner and a token.", "CC6.2"
)
AGENT_TOKEN_ROTATED = declare("agent.token_rotated", "An agent's token was replaced.", "CC6.2")
AGENT_REVOKED = declare("agent.revoked", "An agent's token was revoked.", "CC6.2")
TOKEN_CREATED = declare("token.created", "A person created a personal API token.", "CC6.2")
TOKEN_REVOKED = declare("token.revoked", "A personal API token was revoked.", "CC6.2")
AUTH_OIDC_REFUSED = declare(
    "auth.oidc_refused",
    "A single sign-on was refused (unverified e-mail, domain not allowed).",
    "CC6.1",
    "CC7.2",
)

# --- the log itself -------------------------------------------------------------------

AUDIT_VERIFICATION_FAILED = declare(
    "audit.verification_failed",
    "The scheduled verification found the log altered; the first bad sequence is named.",
    "CC4.1",
    "CC7.2",
)
AUDIT_SEQUENCER_STALLED = declare(
    "audit.sequencer_stalled",
    "Events were committed but not sequenced into the chain for longer than "
    "AUDIT_SEQUENCE_STALL_SECONDS: the sequencer is down or cannot proceed. The events "
    "are stored; they are not yet in exports, checkpoints or evidence.",
    "CC4.1",
    "CC7.2",
)

# --- notifications and chat integrations ----------------------------------------------

CHANNEL_CREATED = declare(
    "notification.channel_created",
    "An admin added a notification channel (Slack, Teams, e-mail, webhook) for reviewer groups.",
    "CC8.1",
)
CHANNEL_DELETED = declare(
    "notification.channel_deleted", "An admin removed a notification channel.", "CC8.1"
)
DELIVERY_FAILED = declare(
    "notification.failed",
    "An outgoing message (Slack, e-mail, webhook) failed for good: a permanent error, "
    "an unsafe address, or its attempts ran out.",
    "CC7.2",
)
DELIVERY_RETRIED = declare(
    "notification.retried", "An admin sent a failed outgoing message again.", "CC7.2"
)
ACTION_REMINDED = declare(
    "action.reminded",
    "A pending request's reviewers were reminded (policy's remind_after). Never a decision.",
    "CC8.1",
)
ACTION_ESCALATED = declare(
    "action.escalated",
    "A pending request was escalated to further groups (policy's escalate_after). "
    "Never a decision.",
    "CC8.1",
    "CC7.2",
)
INTEGRATION_SIGNATURE_REFUSED = declare(
    "integration.signature_refused",
    "An inbound chat callback was refused: forged, expired or replayed signature.",
    "CC6.1",
    "CC7.2",
)
INTEGRATION_ACTIVITY_REFUSED = declare(
    "integration.activity_refused",
    "An inbound Teams activity was refused before it was read: no Bot Framework token, or "
    "one forged, expired, for another audience or issuer, or not for the activity's "
    "serviceUrl or channel; or a tenant other than ours.",
    "CC6.1",
    "CC7.2",
)
CHAT_CLICK_REFUSED = declare(
    "chat.click_refused",
    "A click in chat was refused before review: another workspace, an unlinked chat user, "
    "or a link-only channel.",
    "CC6.1",
    "CC7.2",
)
CHAT_USER_LINKED = declare("chat.user_linked", "A chat identity was bound to a person.", "CC6.2")
AGENT_WEBHOOK_SECRET_ROTATED = declare(
    "agent.webhook_secret_rotated",
    "An agent's webhook signing secret was made or replaced (never the secret itself).",
    "CC6.2",
)

# --- evidence packages ----------------------------------------------------------------

EVIDENCE_REQUESTED = declare(
    "evidence.requested",
    "An auditor or admin asked for an evidence package over a period.",
    "CC4.1",
)
EVIDENCE_BUILT = declare(
    "evidence.built",
    "An evidence package was built, with the SHA-256 of its zip and the audit range it covers.",
    "CC4.1",
)
EVIDENCE_FAILED = declare(
    "evidence.failed", "Building an evidence package failed; the reason is kept.", "CC4.1"
)
EVIDENCE_DOWNLOADED = declare(
    "evidence.downloaded", "An auditor or admin downloaded an evidence package.", "CC4.1", "CC6.1"
)
