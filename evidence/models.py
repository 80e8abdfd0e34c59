"""Evidence packages as jobs: who asked, for which period, how far the build got."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accounts.models import User


class ReportStatus(models.TextChoices):
    """Allowed transitions:

    - queued  -> running | failed (the task could not be enqueued)
    - running -> ready | failed
    - ready, failed: final (a new package is a new report).
    """

    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class EvidenceReport(models.Model):
    """One requested evidence package. The zip lives in ``EVIDENCE['DIR']`` under
    ``file_name``; the row keeps its SHA-256 and size so a downloaded copy can be
    matched to the request that made it. ``error`` says why a build failed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    framework = models.CharField(max_length=16, default="soc2")
    period_from = models.DateField()
    period_to = models.DateField()  # inclusive, like an audit period
    sample_size = models.PositiveIntegerField(default=25)
    seed = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by_name = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seq_from = models.BigIntegerField(null=True, blank=True)
    seq_to = models.BigIntegerField(null=True, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.framework} {self.period_from}..{self.period_to} ({self.status})"

    @property
    def audit_target(self) -> str:
        return f"evidence:{self.pk}"
