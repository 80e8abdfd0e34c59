"""Reads of policy versions."""

from __future__ import annotations

from django.db.models import QuerySet

from policies.models import PolicyStatus, PolicyVersion


def versions() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.select_related("author", "decided_by").order_by("-version")


def active_version() -> PolicyVersion | None:
    return versions().filter(status=PolicyStatus.ACTIVE).first()


def version(number: int) -> PolicyVersion | None:
    return versions().filter(version=number).first()


def any_policy_stored() -> bool:
    return PolicyVersion.objects.filter(status=PolicyStatus.ACTIVE).exists()


def versions_numbered(numbers: list[int]) -> dict[int, PolicyVersion]:
    """Policy versions by number (for evidence: who proposed and who approved each)."""
    return {p.version: p for p in versions().filter(version__in=numbers).defer("document")}
