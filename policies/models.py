"""Stored policy versions."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import User


class PolicyStatus(models.TextChoices):
    """Allowed transitions:

    - proposed -> active (approved by another admin, or single-admin mode) | rejected
    - active   -> superseded (when another version becomes active)
    - rejected, superseded: final.
    """

    PROPOSED = "proposed"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"


class ImmutablePolicyError(Exception):
    """A stored document never changes; only its status moves, through the services."""


class PolicyVersion(models.Model):
    """One policy document as stored: the YAML text, its parsed form and SHA-256.

    ``document``, ``parsed`` and ``sha256`` are immutable once stored; every request
    records the ``version`` that decided it. At most one version is active.
    """

    version = models.PositiveIntegerField(unique=True)
    document = models.TextField()
    parsed = models.JSONField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=PolicyStatus.choices)
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author_name = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="one_active_policy"
            ),
        ]

    def __str__(self) -> str:
        return f"policy v{self.version} ({self.status})"

    _IMMUTABLE = ("version", "document", "parsed", "sha256", "author_id", "created_at")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            stored = PolicyVersion.objects.filter(pk=self.pk).values(*self._IMMUTABLE).first()
            if stored and any(stored[f] != getattr(self, f) for f in self._IMMUTABLE):
                raise ImmutablePolicyError(f"policy v{self.version} cannot be changed")
        super().save(*args, **kwargs)

    @property
    def audit_target(self) -> str:
        return f"policy:{self.version}"
