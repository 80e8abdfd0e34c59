"""Action requests, their reviewer groups, and reviews."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Agent, User


class ActionStatus(models.TextChoices):
    """Where a request is in its life. Allowed transitions (``TRANSITIONS`` below):

    - screening -> pending | approved | denied | cancelled
    - pending   -> approved | denied | expired | cancelled
    - approved, denied, expired, cancelled: final, nothing leaves them.

    A request is created in screening, pending, approved or denied, as policy says.
    """

    SCREENING = "screening"
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({ActionStatus.SCREENING, ActionStatus.PENDING})
FINAL_STATUSES = frozenset(
    {ActionStatus.APPROVED, ActionStatus.DENIED, ActionStatus.EXPIRED, ActionStatus.CANCELLED}
)
TRANSITIONS: dict[str, frozenset[str]] = {
    ActionStatus.SCREENING: frozenset(
        {ActionStatus.PENDING, ActionStatus.APPROVED, ActionStatus.DENIED, ActionStatus.CANCELLED}
    ),
    ActionStatus.PENDING: frozenset(
        {ActionStatus.APPROVED, ActionStatus.DENIED, ActionStatus.EXPIRED, ActionStatus.CANCELLED}
    ),
    **{status: frozenset() for status in FINAL_STATUSES},
}


class Outcome(models.TextChoices):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ActionRequest(models.Model):
    """One privileged action an agent (or a person) asks to take.

    ``payload`` is the masked copy reviewers may see (``None`` until screened, and for
    a payload that could not be screened); ``payload_sha256`` is the SHA-256 of the
    RFC 8785 canonical form of the payload as filed, which a grant binds to. The
    original exists only in ``payload_sealed`` (see ``approvals.sealing``).
    The requester is exactly one of ``requester_agent`` and ``requester_user``;
    ``requester_owner`` is the agent's owner when it was filed, kept so that moving
    an agent to another owner cannot open a path to self-approval.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=16, choices=ActionStatus.choices)

    action = models.CharField(max_length=128)
    resource = models.CharField(max_length=512)
    environment = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(null=True, blank=True)
    payload_sha256 = models.CharField(max_length=64)
    findings = models.JSONField(default=list, blank=True)
    # Screening: when it ended, how many workers started it, and why it did not
    # complete (then nothing was masked, the payload is withheld and the request held).
    screened_at = models.DateTimeField(null=True, blank=True)
    screening_attempts = models.PositiveSmallIntegerField(default=0)
    screening_note = models.CharField(max_length=200, blank=True)
    payload_sealed = models.BinaryField(null=True, blank=True, editable=False)
    # Whether ``payload_sealed`` is kept for reveal (sealed with PAYLOAD_ENCRYPTION_KEY).
    original_kept = models.BooleanField(default=False)
    # Policy can forbid revealing the original (a rule's `reveal: false`).
    reveal_allowed = models.BooleanField(default=True)
    justification = models.TextField(blank=True)
    on_behalf_of = models.EmailField(blank=True)
    callback_url = models.URLField(max_length=2048, blank=True)
    context = models.JSONField(default=dict, blank=True)

    requester_agent = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="action_requests",
        # Covered by the (requester_agent, -created_at) index below: one index fewer
        # to write per filing.
        db_index=False,
    )
    requester_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="action_requests"
    )
    requester_owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    policy_version = models.PositiveIntegerField(null=True, blank=True)
    policy_rules = models.JSONField(default=list, blank=True)
    policy_effect = models.CharField(max_length=32)
    policy_message = models.CharField(max_length=500, blank=True)
    approvals_required = models.PositiveSmallIntegerField(default=0)
    # One entry per matched require_approval rule: {"rule", "approvals", "reviewers"}.
    # Every requirement must be met. ``approvals_required`` is the largest of them: the
    # fewest approvals that can decide the request, since one approver counts toward
    # every requirement whose groups hold them (``Decision.approvals``).
    requirements = models.JSONField(default=list, blank=True)
    # What an approval issues (``policies.decisions.grant_of``): {"ttl", "audience",
    # "broker"} or {"refused": why}; written with the decision, so approving costs
    # no extra row. The grant itself is a pure function of the approved request.
    grant_spec = models.JSONField(null=True, blank=True)

    # NULL, not "", for "no key": the unique constraints below must ignore keyless rows.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64)

    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_detail = models.JSONField(null=True, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["requester_agent", "-created_at"]),
            models.Index(fields=["-created_at"]),
            models.Index(
                fields=["created_at"],
                condition=Q(screened_at__isnull=True),
                name="action_unscreened",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(requester_agent__isnull=False, requester_user__isnull=True)
                    | Q(requester_agent__isnull=True, requester_user__isnull=False)
                ),
                name="action_has_one_requester",
            ),
            models.UniqueConstraint(
                fields=["requester_agent", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False, requester_agent__isnull=False),
                name="action_idempotency_per_agent",
            ),
            models.UniqueConstraint(
                fields=["requester_user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False, requester_user__isnull=False),
                name="action_idempotency_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} on {self.resource} ({self.status})"

    @property
    def audit_target(self) -> str:
        return f"action:{self.pk}"

    @property
    def calls_back(self) -> bool:
        """Whether its agent is told of its status at ``callback_url`` (a person who
        files gets no callback)."""
        return bool(self.callback_url) and self.requester_agent_id is not None

    @property
    def screened(self) -> bool:
        return self.screened_at is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def current_progress(self) -> list[dict[str, Any]]:
        """``progress`` over the reviews as loaded (prefetched by the selectors)."""
        return self.progress(self.reviews.all())

    def progress(self, reviews: Iterable[Review]) -> list[dict[str, Any]]:
        """Each requirement with the number of approvals counted toward it. Reviews
        are distinct people (one per person, by constraint)."""
        counted = Counter(
            index
            for review in reviews
            if review.verdict == Verdict.APPROVE
            for index in review.counted_for
        )
        return [
            {**requirement, "approved": counted[index]}
            for index, requirement in enumerate(self.requirements)
        ]


class ActionReviewerGroup(models.Model):
    """A group whose members may review a request (one row per group, for indexed
    look-ups of "what may this person review")."""

    action = models.ForeignKey(
        ActionRequest, on_delete=models.CASCADE, related_name="reviewer_groups"
    )
    name = models.CharField(max_length=150, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "name"], name="reviewer_group_once"),
        ]

    def __str__(self) -> str:
        return self.name


class Verdict(models.TextChoices):
    APPROVE = "approve"
    DENY = "deny"


class Review(models.Model):
    """One person's verdict on one request. The unique constraint is the last word
    on "the same reviewer twice", whatever races above it."""

    action = models.ForeignKey(ActionRequest, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="reviews")
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    via = models.CharField(max_length=16, default="api")
    # Indexes into the request's requirements that this approval counts toward: those
    # whose reviewer groups held the reviewer when they approved.
    counted_for = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["action", "reviewer"], name="one_review_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.verdict}"


class OutboxEvent(models.Model):
    """A domain event: one per change of a request (filed, a status change, a review,
    screened, an outcome), written in the transaction that made the change, so it
    exists exactly when the change does.

    Every side effect that leaves the process (websocket broadcasts, the screening
    task; notifications, webhooks and grants as they come) is a consumer of these
    events (``approvals.dispatch``). They run after commit; what a broker outage or a
    crash left undelivered, the sweep delivers again. ``delivered_at`` is set once
    every interested consumer has taken the event.
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=16)
    action = models.ForeignKey(ActionRequest, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16)
    previous = models.CharField(max_length=16, blank=True)
    # The consumers that wanted this event when it was made (names).
    consumers = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivered_at__isnull=True),
                name="outbox_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.action_id} -> {self.status}"


class OutboxReceipt(models.Model):
    """One consumer has taken one event: it is never handed that event again."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="receipts")
    consumer = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "consumer"], name="outbox_receipt_once"),
        ]

    def __str__(self) -> str:
        return f"{self.consumer} took {self.event_id}"


class GrantRecord(models.Model):
    """What became of an approved request's grant once something happened to it.

    No row: the grant is issued (to the requesting agent, on read) or expired unused.
    The first redemption or revocation creates the row; ``jti`` is unique, so of any
    number of concurrent redemptions exactly one inserts it, and a revocation and a
    redemption cannot both be first. A revocation after a redemption fills
    ``revoked_at`` on the existing row (and revokes any credential minted for it).
    """

    action = models.OneToOneField(
        ActionRequest, on_delete=models.CASCADE, primary_key=True, related_name="grant_record"
    )
    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # An audit actor reference (``user:<email>``), kept as the log names it.
    revoked_by = models.CharField(max_length=300, blank=True)
    revoke_reason = models.CharField(max_length=2000, blank=True)

    def __str__(self) -> str:
        return f"grant {self.jti}"


class BrokeredCredential(models.Model):
    """A temporary credential a broker minted at a redemption. Never the secret: the
    broker's handle (a role name, an access key id) so it can be revoked at expiry or
    on revocation by the sweep."""

    action = models.ForeignKey(ActionRequest, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=64, db_index=True)
    broker = models.CharField(max_length=32)
    handle = models.CharField(max_length=200)
    # Where it lives (database and table, role ARN): what the console may show.
    scope = models.CharField(max_length=600, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(revoked_at__isnull=True), name="credential_live"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.broker} {self.handle}"
