"""Reads of policy versions."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ADMINS_GROUP, AUDITORS_GROUP
from policies.models import PolicyStatus, PolicyVersion


def can_read_policies(principal: object) -> bool:
    """Admins and auditors. Agents never: a policy tells an agent how to avoid review."""
    if getattr(principal, "is_agent", True):
        return False
    return bool(principal.group_names() & {ADMINS_GROUP, AUDITORS_GROUP})  # type: ignore[attr-defined]


def versions() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.select_related("author", "decided_by").order_by("-version")


def active_version() -> PolicyVersion | None:
    return versions().filter(status=PolicyStatus.ACTIVE).first()


def version(number: int) -> PolicyVersion | None:
    return versions().filter(version=number).first()


def any_policy_stored() -> bool:
    return PolicyVersion.objects.filter(status=PolicyStatus.ACTIVE).exists()
