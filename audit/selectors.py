"""Reads of the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import QuerySet

from audit.models import AuditEvent, Checkpoint
from audit.verify import GENESIS, Frontier


def events(
    *,
    after: int | None = None,
    event_type: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    through: int | None = None,
) -> QuerySet[AuditEvent]:
    """Sequenced events in log order (an event not yet sequenced is not in the log an
    auditor reads yet), up to ``through`` when given."""
    queryset = sequenced().order_by("seq")
    if through is not None:
        queryset = queryset.filter(seq__lte=through)
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


def sequenced() -> QuerySet[AuditEvent]:
    """Every event that has its place in the chain: what exports, checkpoints,
    proofs and evidence may cover."""
    return AuditEvent.objects.filter(seq__isnull=False)


def unsequenced_before(moment: datetime) -> int:
    """How many events written before ``moment`` wait for the sequencer: a report of
    a period ending at ``moment`` is complete only when this is 0."""
    return AuditEvent.objects.filter(seq__isnull=True, at__lt=moment).count()


def events_for_target(target: str) -> QuerySet[AuditEvent]:
    return sequenced().filter(target=target).order_by("seq")


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


# --- evidence packages: events by sequence range ----------------------------------------


def seq_range(*, since: datetime, until: datetime) -> tuple[int, int] | None:
    """The smallest and largest ``seq`` of events written in [since, until), or None.
    Evidence reads the log by this range, so an event whose ``seq`` was assigned out of
    time order is still in exactly one package."""
    from django.db.models import Max, Min

    bounds = AuditEvent.objects.filter(at__gte=since, at__lt=until).aggregate(
        low=Min("seq"), high=Max("seq")
    )
    if bounds["low"] is None:
        return None
    return int(bounds["low"]), int(bounds["high"])


def events_in_range(
    seq_from: int, seq_to: int, *, types: Iterable[str] | None = None, prefix: str | None = None
) -> QuerySet[AuditEvent]:
    """Events with ``seq_from`` <= seq <= ``seq_to`` in sequence order, optionally of
    some types or of types starting with ``prefix`` (``policy.``)."""
    queryset = AuditEvent.objects.filter(seq__gte=seq_from, seq__lte=seq_to).order_by("seq")
    if types is not None:
        queryset = queryset.filter(event_type__in=list(types))
    if prefix is not None:
        queryset = queryset.filter(event_type__startswith=prefix)
    return queryset


def events_for_targets_in_range(
    targets: Iterable[str], seq_from: int, seq_to: int, types: Iterable[str]
) -> QuerySet[AuditEvent]:
    return events_in_range(seq_from, seq_to, types=types).filter(target__in=list(targets))


def first_checkpoint_covering(seq: int) -> Checkpoint | None:
    """The smallest signed checkpoint whose tree holds event ``seq``."""
    return Checkpoint.objects.filter(tree_size__gte=seq).order_by("tree_size").first()


def frontier_at(size: int) -> Frontier:
    """The Merkle frontier of the first ``size`` events: from the largest checkpoint at
    or below ``size`` (which stores its frontier), extended by the leaves after it."""
    base = Checkpoint.objects.filter(tree_size__lte=size).order_by("-tree_size").first()
    frontier = Frontier.from_json(base.frontier) if base else Frontier()
    for leaf in leaf_hashes(up_to=size, after=frontier.size):
        frontier.append(leaf)
    return frontier


def chain_hash_at(seq: int) -> str:
    """The chain hash after event ``seq`` (genesis for 0)."""
    if seq == 0:
        return GENESIS.hex()
    return str(AuditEvent.objects.values_list("chain_hash", flat=True).get(seq=seq))


def type_counts(seq_from: int, seq_to: int) -> dict[str, int]:
    """How many events of each type the range holds."""
    from django.db.models import Count

    rows = (
        events_in_range(seq_from, seq_to)
        .order_by()
        .values_list("event_type")
        .annotate(n=Count("seq"))
    )
    return {event_type: int(n) for event_type, n in rows}
