"""Every write to policies, and the one function the rest of Airlock asks for a decision.

Changing policy is itself a privileged action: a version proposed by one member of
``airlock-admins`` becomes active only when a different member approves it, unless
single-admin mode is on (``AIRLOCK_POLICY_SINGLE_ADMIN``, meant for a first install).
Every proposal, approval, rejection, activation and refused attempt is audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts import roles
from accounts.models import User
from airlock.cache import read_along, shared_cache
from airlock.errors import Conflict, Forbidden, InvalidInput, NotFound
from audit import catalogue as events
from audit.services import record
from policies.decisions import Decision, RequestFacts
from policies.document import PolicyDocumentError, parse_document
from policies.evaluator import evaluate
from policies.models import PolicyStatus, PolicyVersion

_ACTIVE_KEY = "airlock:policy:active"
# A process that read the old active version just before an activation committed
# may serve it for at most this long; every other process sees the change at once.
_ACTIVE_TTL_SECONDS = 5
# Read with every API request's rate limit, in the same round trip (airlock.cache).
read_along(_ACTIVE_KEY)
_parsed_by_digest: dict[str, dict[str, Any]] = {}


class PolicySelfApproval(Forbidden):
    code = "self_approval"
    message = "the author of a policy version cannot approve it"


class NotAnAdmin(Forbidden):
    code = "not_a_reviewer"
    message = "only members of airlock-admins approve policy changes"


class PolicyNotProposed(Conflict):
    code = "not_pending"
    message = "this policy version is no longer a proposal"


@dataclass(frozen=True)
class ActivePolicy:
    version: int
    sha256: str
    parsed: dict[str, Any]


def digest(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


# --- reading the active policy --------------------------------------------------------


def active_policy() -> ActivePolicy | None:
    """The active version, cached: versions are immutable, so only "which one is
    active" can go stale, and activation clears it."""
    cache = shared_cache()
    entry = cache.get(_ACTIVE_KEY)
    if entry is None:
        row = (
            PolicyVersion.objects.filter(status=PolicyStatus.ACTIVE)
            .values_list("version", "sha256")
            .first()
        )
        entry = list(row) if row else []
        cache.set(_ACTIVE_KEY, entry, _ACTIVE_TTL_SECONDS)
    if not entry:
        return None
    version, sha256 = entry
    parsed = _parsed_by_digest.get(sha256)
    if parsed is None:
        parsed = PolicyVersion.objects.values_list("parsed", flat=True).get(version=version)
        _parsed_by_digest[sha256] = parsed
    return ActivePolicy(version, sha256, parsed)


def _forget_active() -> None:
    shared_cache().delete(_ACTIVE_KEY)


def decide(facts: RequestFacts, findings: Sequence[dict[str, Any]] = ()) -> Decision:
    """The decision of the active policy (API.md's built-in default when none is)."""
    active = active_policy()
    if active is None:
        return evaluate(None, facts, findings)
    return evaluate(active.parsed, facts, findings, version=active.version)


def simulate(
    *, document: str | None, facts: RequestFacts, findings: Sequence[dict[str, Any]] = ()
) -> Decision:
    """A decision without storing anything: of ``document``, or of the active policy."""
    if document is None:
        return decide(facts, findings)
    return evaluate(parse(document), facts, findings)


def parse(document: str) -> dict[str, Any]:
    try:
        return parse_document(document)
    except PolicyDocumentError as exc:
        raise InvalidInput(
            "the policy document is not valid",
            details={"document": [p.as_dict() for p in exc.problems]},
        ) from exc


# --- changing policy ------------------------------------------------------------------


def propose(*, document: str, actor: User | str, single_admin: bool | None = None) -> PolicyVersion:
    """Store ``document`` as a new version. It is active at once only in single-admin
    mode; otherwise it waits for another admin's approval."""
    # A string actor is an operator at the command line (`policy_apply`); anyone else
    # must be a person in airlock-admins. Agents never write policy.
    if not isinstance(actor, str) and not roles.is_admin(actor):
        raise Forbidden("only members of airlock-admins propose policies")
    parsed = parse(document)
    if single_admin is None:
        single_admin = bool(settings.AIRLOCK["POLICY_SINGLE_ADMIN"])
    for _attempt in range(5):
        try:
            with transaction.atomic():
                latest = PolicyVersion.objects.aggregate(v=Max("version"))["v"] or 0
                policy = PolicyVersion.objects.create(
                    version=latest + 1,
                    document=document,
                    parsed=parsed,
                    sha256=digest(document),
                    status=PolicyStatus.PROPOSED,
                    author=actor if isinstance(actor, User) else None,
                    author_name=str(actor),
                )
                record(
                    events.POLICY_PROPOSED,
                    actor,
                    policy.audit_target,
                    {
                        "version": policy.version,
                        "sha256": policy.sha256,
                        "rules": len(parsed["rules"]),
                    },
                )
                if single_admin:
                    _activate(policy, actor, note="single-admin mode")
                return policy
        except IntegrityError:
            continue  # another proposal took this version number; take the next
    raise Conflict("could not allocate a policy version; try again")


def approve(*, version: int, actor: User) -> PolicyVersion:
    """Another admin approves a proposal, which becomes the active version."""
    refusal: Exception | None = None
    with transaction.atomic():
        policy = _lock(version)
        if not roles.is_admin(actor):
            refusal = NotAnAdmin()
        elif policy.author_id is not None and policy.author_id == actor.pk:
            refusal = PolicySelfApproval()
        elif policy.status != PolicyStatus.PROPOSED:
            refusal = PolicyNotProposed()
        else:
            _activate(policy, actor)
        if refusal is not None:
            record(
                events.POLICY_APPROVAL_REFUSED,
                actor,
                policy.audit_target,
                {"code": refusal.code},  # type: ignore[attr-defined]
            )
    if refusal is not None:
        raise refusal
    return policy


def reject(*, version: int, actor: User, reason: str) -> PolicyVersion:
    """An admin (the author too: a withdrawal) turns a proposal down."""
    if not reason.strip():
        raise InvalidInput(details={"reason": ["a reason is required"]})
    with transaction.atomic():
        policy = _lock(version)
        if not roles.is_admin(actor):
            raise NotAnAdmin()
        if policy.status != PolicyStatus.PROPOSED:
            raise PolicyNotProposed()
        policy.status = PolicyStatus.REJECTED
        policy.decided_by, policy.decided_at, policy.decision_note = actor, timezone.now(), reason
        policy.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(events.POLICY_REJECTED, actor, policy.audit_target, {"version": policy.version})
    return policy


def _lock(version: int) -> PolicyVersion:
    policy = PolicyVersion.objects.select_for_update().filter(version=version).first()
    if policy is None:
        raise NotFound(f"no policy version {version}")
    return policy


def _activate(policy: PolicyVersion, actor: User | str, note: str = "") -> None:
    now = timezone.now()
    previous = PolicyVersion.objects.select_for_update().filter(status=PolicyStatus.ACTIVE).first()
    if previous is not None:
        previous.status = PolicyStatus.SUPERSEDED
        previous.save(update_fields=["status"])
        record(events.POLICY_SUPERSEDED, actor, previous.audit_target, {"by": policy.version})
    policy.status = PolicyStatus.ACTIVE
    policy.decided_by = actor if isinstance(actor, User) else None
    policy.decided_at = now
    policy.decision_note = note
    policy.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    record(
        events.POLICY_ACTIVATED,
        actor,
        policy.audit_target,
        {
            "version": policy.version,
            "sha256": policy.sha256,
            "previous": previous.version if previous else None,
            "single_admin": note == "single-admin mode",
        },
    )
    # Forget now (this process, and the shared cache) and again once committed, so
    # a read between the two cannot keep the old version alive.
    _forget_active()
    transaction.on_commit(_forget_active, robust=True)
