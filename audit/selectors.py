"""Reads of the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import QuerySet

from audit.models import AuditEvent, Checkpoint


def events(
    *,
    after: int | None = None,
    event_type: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    queryset = AuditEvent.objects.order_by("seq")
    if after is not None:
        queryset = queryset.filter(seq__gt=after)
    if event_type:
        queryset = queryset.filter(event_type=event_type)
    if actor:
        queryset = queryset.filter(actor=actor)
    if target:
        queryset = queryset.filter(target=target)
    if since:
        queryset = queryset.filter(at__gte=since)
    if until:
        queryset = queryset.filter(at__lt=until)
    return queryset


def events_for_target(target: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target=target).order_by("seq")


def latest_checkpoint_covering(seq: int) -> Checkpoint | None:
    return Checkpoint.objects.filter(tree_size__gte=seq).order_by("-tree_size").first()


def leaf_hashes(*, up_to: int, after: int = 0) -> Iterator[bytes]:
    """Leaf hashes of events ``after`` < seq <= ``up_to``, in sequence order."""
    rows = (
        AuditEvent.objects.filter(seq__gt=after, seq__lte=up_to)
        .order_by("seq")
        .values_list("leaf_hash", flat=True)
    )
    for leaf in rows.iterator(chunk_size=5000):
        yield bytes.fromhex(leaf)
