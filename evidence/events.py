"""The one place evidence reads the audit log.

Every read selects *sequenced* events only (``seq`` not null) and addresses them by
``seq``, never by primary key: an event may be written unsequenced and be given its
``seq`` and chain hash by a sequencer shortly after it commits, and a package
describes the log "sequenced through N". If the log's storage changes, this module
is what changes with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min, QuerySet

from audit import selectors as audit_selectors
from audit import sequencer
from audit.models import AuditEvent, Checkpoint
from audit.verify import GENESIS, Frontier

CHUNK = 5000


def _sequenced() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(seq__isnull=False)


def all_sequenced_before(moment: datetime) -> bool:
    """Whether every event written before ``moment`` has its place in the chain, after
    a sequencing pass of our own (a no-op where appends sequence inline): a package
    describes the log "sequenced through N" and must leave none of its period out."""
    sequencer.sequence_all(wait=True)
    return not audit_selectors.unsequenced_before(moment)


def in_range(seq_from: int, seq_to: int) -> QuerySet[AuditEvent]:
    return _sequenced().filter(seq__gte=seq_from, seq__lte=seq_to).order_by("seq")


def seq_range(*, since: datetime, until: datetime) -> tuple[int, int] | None:
    """The smallest and largest ``seq`` of sequenced events written in [since, until)."""
    bounds = (
        _sequenced().filter(at__gte=since, at__lt=until).aggregate(low=Min("seq"), high=Max("seq"))
    )
    if bounds["low"] is None:
        return None
    return int(bounds["low"]), int(bounds["high"])


def stream(seq_from: int, seq_to: int) -> Iterator[tuple[int, str, str, str, str, str]]:
    """(seq, type, actor, target, canonical, leaf_hash) of every event in the range, in
    seq order, through a server-side cursor (PostgreSQL): one pass, nothing parsed."""
    rows = in_range(seq_from, seq_to).values_list(
        "seq", "event_type", "actor", "target", "canonical", "leaf_hash"
    )
    yield from rows.iterator(chunk_size=CHUNK)  # type: ignore[misc]  # seq is not null here


def canonical_of_type(seq_from: int, seq_to: int, types: Iterable[str]) -> Iterator[str]:
    """The canonical bytes (as text) of the range's events of some types, in seq order."""
    rows = (
        in_range(seq_from, seq_to)
        .filter(event_type__in=list(types))
        .values_list("canonical", flat=True)
    )
    yield from rows.iterator(chunk_size=CHUNK)


def count_of_type(seq_from: int, seq_to: int, event_type: str) -> int:
    return in_range(seq_from, seq_to).filter(event_type=event_type).count()


def type_counts(seq_from: int, seq_to: int) -> dict[str, int]:
    rows = in_range(seq_from, seq_to).order_by().values_list("event_type").annotate(n=Count("seq"))
    return {event_type: int(n) for event_type, n in rows}


def canonical_before(seq_to: int, types: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(seq, canonical) of every sequenced event of some types up to ``seq_to``,
    since the log began (configuration changes: few)."""
    rows = (
        _sequenced()
        .filter(seq__lte=seq_to, event_type__in=list(types))
        .order_by("seq")
        .values_list("seq", "canonical")
    )
    yield from rows.iterator(chunk_size=CHUNK)  # type: ignore[misc]  # seq is not null here


def leaves(*, after: int, up_to: int) -> Iterator[bytes]:
    """Leaf hashes of the events ``after`` < seq <= ``up_to``, in seq order."""
    rows = (
        _sequenced()
        .filter(seq__gt=after, seq__lte=up_to)
        .order_by("seq")
        .values_list("leaf_hash", flat=True)
    )
    for leaf in rows.iterator(chunk_size=CHUNK):
        yield bytes.fromhex(leaf)


def frontier_at(size: int) -> Frontier:
    """The Merkle frontier of the first ``size`` events: from the largest checkpoint
    at or below ``size`` (which stores its frontier), extended by the leaves after it."""
    base = Checkpoint.objects.filter(tree_size__lte=size).order_by("-tree_size").first()
    frontier = Frontier.from_json(base.frontier) if base else Frontier()
    for leaf in leaves(after=frontier.size, up_to=size):
        frontier.append(leaf)
    return frontier


def chain_hash_at(seq: int) -> str:
    """The chain hash after event ``seq`` (genesis for 0)."""
    if seq == 0:
        return GENESIS.hex()
    return str(_sequenced().values_list("chain_hash", flat=True).get(seq=seq))


def checkpoint_covering(seq: int) -> Any:
    """The smallest signed checkpoint whose tree holds event ``seq``, or None."""
    return Checkpoint.objects.filter(tree_size__gte=seq).order_by("tree_size").first()


def seqs_of_type(seq_from: int, seq_to: int, event_type: str) -> Iterator[int]:
    rows = in_range(seq_from, seq_to).filter(event_type=event_type).values_list("seq", flat=True)
    yield from rows.iterator(chunk_size=CHUNK)  # type: ignore[misc]  # seq is not null here
