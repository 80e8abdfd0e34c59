"""Verify the stored log with the auditor's own verifier (``audit/verify.py``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from audit import keys
from audit import verify as chain
from audit.models import AuditEvent, ChainHead, Checkpoint

logger = logging.getLogger(__name__)

EVENT_COLUMNS = (
    "seq",
    "at",
    "event_type",
    "actor",
    "target",
    "data",
    "canonical",
    "leaf_hash",
    "prev_hash",
    "chain_hash",
)


def event_rows(queryset: QuerySet[AuditEvent] | None = None) -> Iterator[dict[str, Any]]:
    """Events in sequence order as the verifier reads them (and as the export writes
    them), ``at`` in the canonical spelling."""
    from audit.sequencer import timestamp

    rows = (
        (AuditEvent.objects.all() if queryset is None else queryset)
        .filter(seq__isnull=False)
        .order_by("seq")
    )
    for row in rows.values(*EVENT_COLUMNS).iterator(chunk_size=5000):
        row["at"] = timestamp(row["at"])
        yield row


def checkpoint_rows() -> list[dict[str, Any]]:
    from audit.sequencer import timestamp

    return [
        {"tree_size": c.tree_size, "note": c.note, "created_at": timestamp(c.created_at)}
        for c in Checkpoint.objects.order_by("tree_size")
    ]


# PostgreSQL formats ``at`` as the canonical bytes spell it (``timestamp``), so no
# datetime object is made per event: the verifier compares the strings.
_PG_ROWS = (
    "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "event_type, actor, target, data, canonical, leaf_hash, prev_hash, chain_hash "
    "FROM audit_auditevent WHERE seq IS NOT NULL ORDER BY seq"
)


def _postgres_rows() -> Iterator[Sequence[Any]]:
    """Every sequenced event as a tuple in ``verify.ROW_COLUMNS`` order, streamed by a
    server-side cursor in binary (no text parsing of numbers), many rows per round
    trip; ``data`` parsed by the verifier's JSON parser."""
    from psycopg.types.json import set_json_loads

    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with raw.cursor(name="airlock_audit_verify", binary=True) as cursor:
        set_json_loads(chain._fast_loads, cursor)
        cursor.execute(_PG_ROWS)
        while rows := cursor.fetchmany(20_000):
            yield from rows


def _rows() -> Iterator[Sequence[Any]]:
    if connection.vendor == "postgresql":
        return _postgres_rows()
    columns = chain.ROW_COLUMNS
    return (tuple(row[c] for c in columns) for row in event_rows())


def verify_database() -> chain.Result:
    """The auditor's checks over the sequenced log, and the chain head against it.
    Events committed but not yet sequenced are not in the log yet: they are counted
    by ``sequencer.status``, not verified."""
    with transaction.atomic():
        if connection.vendor == "postgresql" and not _in_outer_transaction():
            # One snapshot for the head and the rows, while the sequencer goes on.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        head = ChainHead.objects.filter(pk=1).first()
        result = chain.verify_rows(_rows(), checkpoint_rows(), keys.published_keys())
    if head is None:
        result.fail(None, "the chain head is missing")
    elif result.first_bad_seq is None and (
        head.seq != result.events or (result.head and head.chain_hash != result.head)
    ):
        result.fail(
            result.events + 1, f"the chain head says {head.seq} events, the log has {result.events}"
        )
    return result


def _in_outer_transaction() -> bool:
    # Inside transaction.atomic() above: an outer block means a query may have run.
    return len(connection.atomic_blocks) > 1
