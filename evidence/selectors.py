"""Reads of evidence reports."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from evidence.models import EvidenceReport
from evidence.services import may_use_evidence


def reports_visible_to(principal: Any) -> QuerySet[EvidenceReport]:
    """Auditors and admins see every report (who asked is part of the record)."""
    if not may_use_evidence(principal):
        return EvidenceReport.objects.none()
    return EvidenceReport.objects.select_related("requested_by").order_by("-created_at")


def visible_report(principal: Any, report_id: UUID) -> EvidenceReport | None:
    return reports_visible_to(principal).filter(pk=report_id).first()
