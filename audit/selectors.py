"""Reads of the audit log."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ADMINS_GROUP, AUDITORS_GROUP
from audit.models import AuditEvent


def can_read_audit(principal: object) -> bool:
    if getattr(principal, "is_agent", True):
        return False
    return bool(principal.group_names() & {ADMINS_GROUP, AUDITORS_GROUP})  # type: ignore[attr-defined]


def events(
    *, after: int | None = None, event_type: str | None = None, target: str | None = None
) -> QuerySet[AuditEvent]:
    queryset = AuditEvent.objects.order_by("seq")
    if after is not None:
        queryset = queryset.filter(seq__gt=after)
    if event_type:
        queryset = queryset.filter(event_type=event_type)
    if target:
        queryset = queryset.filter(target=target)
    return queryset


def events_for_target(target: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target=target).order_by("seq")
